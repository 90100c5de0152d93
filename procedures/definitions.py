"""Procedure definitions: YAML files read into frozen dataclasses, validated as they are read.

Every error names the file, the path inside it (``form.pages[2].fields[0].type``) and the
reason, so whoever edits a definition can fix it without reading this code. A file with
errors is left out of the catalogue and logged; the rest of the site goes on
(``procedures/definitions/README.md`` is the schema, ``python -m procedures.definitions``
checks every file).

The definitions are content, not code: their texts come in all six languages from the
file itself rather than from gettext, because each agency writes and versions its own.
"""

from __future__ import annotations

import hashlib
import logging
import re
import string
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from procedures.identifiers import CHECKS
from procedures.taxonomy import LIFE_EVENTS, TOPICS

log = logging.getLogger(__name__)

LANGUAGES = ("es", "en", "ca", "gl", "eu", "ar")
DEFINITIONS_DIR = Path(__file__).parent / "definitions"
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
SLUG = re.compile(r"^[a-z][a-z0-9-]*$")

FIELD_TYPES = frozenset(
    {
        "text",
        "email",
        "phone",
        "number",
        "date",
        "radios",
        "select",
        "checkboxes",
        "yes_no",
        "textarea",
        "address",
        "file",
    }
)
WITH_OPTIONS = frozenset({"radios", "select", "checkboxes"})
#: The citizen-record attributes a field may be filled from (``identity.record``).
PREFILL_SOURCES = frozenset(
    {"given_name", "family_name", "national_id", "birth_date", "email", "phone", "address"}
)
PREFILL_TYPES = {
    "given_name": {"text"},
    "family_name": {"text"},
    "national_id": {"text"},
    "birth_date": {"date"},
    "email": {"email"},
    "phone": {"phone"},
    "address": {"address"},
}
CHANNELS = ("online", "in_person", "phone")
#: Files in the definitions directory that are not procedures.
SHARED_FILES = frozenset({"agencies.yaml", "offices.yaml"})
SILENCE = ("positive", "negative")
CLOCK = ("runs", "paused", "stopped")
ACTORS = ("citizen", "staff", "system")


class Text(Mapping[str, str]):
    """One text in every language; calling it with a language gives that language's text."""

    def __init__(self, texts: dict[str, str]) -> None:
        self._texts = dict(texts)

    def __getitem__(self, lang: str) -> str:
        return self._texts[lang]

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)

    def __call__(self, lang: str) -> str:
        return self._texts.get(lang) or self._texts["es"]

    def __repr__(self) -> str:
        return f"Text({self._texts.get('en')!r})"

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._texts.items())))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Text) and self._texts == other._texts


@dataclass(frozen=True)
class DefinitionError:
    file: str
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path or '(top)'}: {self.reason}"


class DefinitionsInvalidError(ValueError):
    def __init__(self, errors: list[DefinitionError]) -> None:
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = errors


@dataclass(frozen=True)
class Option:
    value: str
    label: Text


@dataclass(frozen=True)
class Condition:
    """``show_if``: the page is asked only when an earlier answer is one of ``values``."""

    field: str
    values: tuple[str, ...]

    def holds(self, answers: Mapping[str, Any]) -> bool:
        answer = answers.get(self.field)
        if isinstance(answer, list):
            return any(value in self.values for value in answer)
        return answer in self.values


@dataclass(frozen=True)
class Field:
    id: str
    type: str
    label: Text
    hint: Text | None = None
    optional: bool = False
    options: tuple[Option, ...] = ()
    autocomplete: str | None = None
    prefill: str | None = None
    max_length: int | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    whole: bool = True
    past: bool = False
    future: bool = False
    width: int | None = None
    pattern: str | None = None
    pattern_error: Text | None = None
    #: A check beyond the shape (``procedures.identifiers.CHECKS``): a DNI letter, IBAN digits.
    check: str | None = None
    may_be_already_provided: bool = False
    min_choices: int | None = None

    def option_label(self, value: str, lang: str) -> str:
        for option in self.options:
            if option.value == value:
                return option.label(lang)
        return value


@dataclass(frozen=True)
class Page:
    id: str
    fields: tuple[Field, ...]
    title: Text | None = None
    section: Text | None = None
    show_if: Condition | None = None

    def heading(self, lang: str) -> str:
        """The page's h1: its title, or the label of its only field."""
        return (self.title or self.fields[0].label)(lang)

    @property
    def label_is_heading(self) -> bool:
        return self.title is None


@dataclass(frozen=True)
class Consultation:
    """Data we fetch from another administration unless the citizen objects (art. 28)."""

    id: str
    administration: Text
    data: Text
    document: Text


@dataclass(frozen=True)
class Form:
    pages: tuple[Page, ...]

    def page(self, page_id: str) -> Page | None:
        return next((page for page in self.pages if page.id == page_id), None)

    def fields(self) -> Iterator[tuple[Page, Field]]:
        for page in self.pages:
            for one in page.fields:
                yield page, one

    def field(self, field_id: str) -> Field | None:
        return next((one for _, one in self.fields() if one.id == field_id), None)

    @property
    def sections(self) -> list[Text]:
        seen: list[Text] = []
        for page in self.pages:
            if page.section is not None and page.section not in seen:
                seen.append(page.section)
        return seen


@dataclass(frozen=True)
class State:
    key: str
    clock: str
    citizen: Text
    staff: Text


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    by: str


@dataclass(frozen=True)
class Workflow:
    name: str
    initial: str
    states: Mapping[str, State]
    transitions: tuple[Transition, ...]
    deadlines: Mapping[str, int]

    def allows(self, source: str, target: str, by: str) -> bool:
        return any(
            t.source == source and t.target == target and t.by == by for t in self.transitions
        )


@dataclass(frozen=True)
class Agency:
    key: str
    name: Text
    phone: str
    email: str
    address: str
    hours: Text


@dataclass(frozen=True)
class ProcedureTexts:
    title: str
    summary: str
    description: str
    who_can_apply: str
    requirements: tuple[str, ...]
    documents: tuple[str, ...]
    next_steps: str


@dataclass(frozen=True)
class DocumentTemplate:
    """A procedure's own wording of the certificate it issues: a title, and paragraphs
    (separated by a blank line) with ``{placeholders}`` from ``DOCUMENT_PLACEHOLDERS`` or
    ``{answer_<field id>}`` for an answer of the form."""

    title: Text
    body: Text

    def paragraphs(self, lang: str, values: Mapping[str, str]) -> list[str]:
        """The body in ``lang`` with ``values`` put in. A paragraph that names a value missing
        or empty (an answer on a page the applicant was not asked, an optional answer left
        blank, a DNI the record does not hold) is left out whole: a certificate must not
        print a gap or "Not answered", so what depends on a condition gets its own paragraph."""
        kept = []
        for part in (one.strip() for one in self.body(lang).split("\n\n")):
            names = {name for _t, name, _s, _c in string.Formatter().parse(part) if name}
            if part and all(values.get(name) for name in names):
                kept.append(part.format_map(values))
        return kept


@dataclass(frozen=True)
class Procedure:
    slug: str
    version: int
    agency: Agency
    topics: tuple[str, ...]
    life_events: tuple[str, ...]
    channels: tuple[str, ...]
    fee: Decimal
    expected_days: int
    max_resolution_months: int
    silence: str
    workflow: Workflow
    keywords: Mapping[str, tuple[str, ...]]
    texts: Mapping[str, ProcedureTexts]
    consultations: tuple[Consultation, ...] = ()
    form: Form | None = None
    appointment_service: str | None = None
    certificate: DocumentTemplate | None = None
    #: SHA-256 of the file: an application records it, with the file's text, when it starts.
    sha256: str = ""
    source: str = field(default="", repr=False)

    def text(self, lang: str) -> ProcedureTexts:
        return self.texts.get(lang) or self.texts["es"]

    @property
    def online(self) -> bool:
        return "online" in self.channels and (
            self.form is not None or self.appointment_service is not None
        )


class Reader:
    """Walks one YAML document, collecting errors with their path instead of stopping."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[DefinitionError] = []

    def error(self, path: str, reason: str) -> None:
        self.errors.append(DefinitionError(self.file, path, reason))

    def mapping(self, node: Any, path: str) -> dict[str, Any]:
        if not isinstance(node, dict):
            self.error(path, "must be a mapping of keys to values")
            return {}
        return node

    def only(self, node: dict[str, Any], path: str, allowed: set[str]) -> None:
        for key in node:
            if key not in allowed:
                self.error(
                    _join(path, str(key)), f"unknown key (allowed: {', '.join(sorted(allowed))})"
                )

    def required(self, node: dict[str, Any], key: str, path: str) -> Any:
        if key not in node or node[key] is None:
            self.error(_join(path, key), "is required")
            return None
        return node[key]

    def text(self, node: Any, path: str, required: bool = True) -> Text | None:
        if node is None:
            if required:
                self.error(path, "is required")
            return None
        if not isinstance(node, dict):
            self.error(path, f"must give the text in every language: {', '.join(LANGUAGES)}")
            return None
        missing = [lang for lang in LANGUAGES if not _non_empty_string(node.get(lang))]
        if missing:
            self.error(path, f"missing or empty in: {', '.join(missing)}")
        extra = sorted(set(node) - set(LANGUAGES))
        if extra:
            self.error(path, f"unknown language: {', '.join(map(str, extra))}")
        if missing or extra:
            return None
        return Text({lang: node[lang].strip() for lang in LANGUAGES})

    def identifier(self, node: Any, path: str, pattern: re.Pattern[str] = IDENTIFIER) -> str:
        if not isinstance(node, str) or not pattern.match(node):
            self.error(
                path, "must be lowercase letters, digits and underscores, starting with a letter"
            )
            return ""
        return node

    def integer(self, node: Any, path: str, minimum: int = 0) -> int:
        if isinstance(node, bool) or not isinstance(node, int) or node < minimum:
            self.error(path, f"must be a whole number, at least {minimum}")
            return minimum
        return node

    def decimal(self, node: Any, path: str) -> Decimal | None:
        if node is None:
            return None
        if isinstance(node, bool):
            self.error(path, "must be a number")
            return None
        try:
            return Decimal(str(node))
        except InvalidOperation:
            self.error(path, "must be a number")
            return None

    def boolean(self, node: dict[str, Any], key: str, path: str) -> bool:
        value = node.get(key, False)
        if not isinstance(value, bool):
            self.error(_join(path, key), "must be true or false")
            return False
        return value

    def choice(self, node: Any, path: str, allowed: tuple[str, ...] | frozenset[str]) -> str:
        if node not in allowed:
            self.error(path, f"must be one of: {', '.join(sorted(allowed))}")
            return ""
        return str(node)

    def choices(
        self, node: Any, path: str, allowed: tuple[str, ...] | frozenset[str], least: int
    ) -> tuple[str, ...]:
        if node is None:
            node = []
        if not isinstance(node, list):
            self.error(path, "must be a list")
            return ()
        if len(node) < least:
            self.error(path, f"needs at least {least}")
        for index, value in enumerate(node):
            self.choice(value, f"{path}[{index}]", allowed)
        return tuple(node)

    def sequence(self, node: Any, path: str, least: int = 1) -> list[Any]:
        if not isinstance(node, list) or len(node) < least:
            self.error(path, f"must be a list of at least {least}")
            return []
        return node


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _non_empty_string(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def load_agencies(
    directory: Path = DEFINITIONS_DIR,
) -> tuple[dict[str, Agency], list[DefinitionError]]:
    path = directory / "agencies.yaml"
    reader = Reader(path.name)
    agencies: dict[str, Agency] = {}
    data = _parse(path, reader)
    for key, node in reader.mapping(data, "").items():
        node = reader.mapping(node, key)
        reader.only(node, key, {"name", "phone", "email", "address", "hours"})
        name = reader.text(node.get("name"), _join(key, "name"))
        hours = reader.text(node.get("hours"), _join(key, "hours"))
        strings = {k: node.get(k) for k in ("phone", "email", "address")}
        for k, value in strings.items():
            if not _non_empty_string(value):
                reader.error(_join(key, k), "is required")
        if name and hours and all(_non_empty_string(v) for v in strings.values()):
            agencies[key] = Agency(key, name, hours=hours, **strings)
    return agencies, reader.errors


def load_workflow(path: Path) -> tuple[Workflow | None, list[DefinitionError]]:
    reader = Reader(f"workflows/{path.name}")
    data = reader.mapping(_parse(path, reader), "")
    reader.only(data, "", {"initial", "states", "transitions", "deadlines"})
    states: dict[str, State] = {}
    for key, node in reader.mapping(data.get("states"), "states").items():
        where = f"states.{key}"
        node = reader.mapping(node, where)
        reader.only(node, where, {"clock", "citizen", "staff"})
        clock = reader.choice(node.get("clock"), _join(where, "clock"), CLOCK)
        citizen = reader.text(node.get("citizen"), _join(where, "citizen"))
        staff = reader.text(node.get("staff"), _join(where, "staff"))
        if citizen and staff and clock:
            states[key] = State(reader.identifier(key, where), clock, citizen, staff)
    initial = reader.choice(data.get("initial"), "initial", tuple(states))
    transitions = []
    for index, node in enumerate(reader.sequence(data.get("transitions"), "transitions")):
        where = f"transitions[{index}]"
        node = reader.mapping(node, where)
        reader.only(node, where, {"from", "to", "by"})
        transitions.append(
            Transition(
                reader.choice(node.get("from"), _join(where, "from"), tuple(states)),
                reader.choice(node.get("to"), _join(where, "to"), tuple(states)),
                reader.choice(node.get("by"), _join(where, "by"), ACTORS),
            )
        )
    deadlines = {}
    for key, days in reader.mapping(data.get("deadlines") or {}, "deadlines").items():
        reader.choice(key, f"deadlines.{key}", tuple(states))
        deadlines[key] = reader.integer(days, f"deadlines.{key}", 1)
    if reader.errors:
        return None, reader.errors
    return Workflow(path.stem, initial, states, tuple(transitions), deadlines), []


def _read(path: Path, reader: Reader) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        reader.error("", "file not found")
        return ""


def _parse(path: Path, reader: Reader) -> Any:
    return _parse_text(_read(path, reader), reader)


#: libyaml's safe loader when PyYAML was built with it (the wheels are): about ten times
#: faster than the pure-Python one, which made reading the catalogue most of the app's start
#: and of every stored definition an application is read against.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse_text(source: str, reader: Reader) -> Any:
    try:
        return yaml.load(source, Loader=SAFE_LOADER)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reader.error(where, f"not valid YAML: {getattr(error, 'problem', error)}")
    return None


TOP_LEVEL = {
    "slug",
    "version",
    "agency",
    "topics",
    "life_events",
    "channels",
    "fee",
    "expected_days",
    "legal",
    "workflow",
    "keywords",
    "texts",
    "consultations",
    "form",
    "appointment",
    "certificate",
}
#: What a certificate's wording may name, besides ``{answer_<field id>}``.
DOCUMENT_PLACEHOLDERS = (
    "agency",
    "procedure",
    "reference",
    "number",
    "sent",
    "decided",
    "name",
    "national_id",
)
TEXT_KEYS = {
    "title",
    "summary",
    "description",
    "who_can_apply",
    "requirements",
    "documents",
    "next_steps",
}
FIELD_KEYS = {
    "id",
    "type",
    "label",
    "hint",
    "optional",
    "options",
    "autocomplete",
    "prefill",
    "max_length",
    "min",
    "max",
    "whole",
    "past",
    "future",
    "width",
    "pattern",
    "pattern_error",
    "check",
    "may_be_already_provided",
    "min_choices",
}


def load_procedure(
    path: Path, agencies: Mapping[str, Agency], workflows: Mapping[str, Workflow]
) -> tuple[Procedure | None, list[DefinitionError]]:
    """One definition file, or ``None`` and the reasons it cannot be used."""
    reader = Reader(path.name)
    return read_procedure(path.stem, _read(path, reader), agencies, workflows, reader)


def read_procedure(
    slug_expected: str,
    source: str,
    agencies: Mapping[str, Agency],
    workflows: Mapping[str, Workflow],
    reader: Reader | None = None,
) -> tuple[Procedure | None, list[DefinitionError]]:
    """A definition from its text: a file's, or the copy an application was started with."""
    reader = reader or Reader(f"{slug_expected}.yaml")
    data = reader.mapping(_parse_text(source, reader), "")
    if not data:
        return None, reader.errors
    reader.only(data, "", TOP_LEVEL)
    slug = data.get("slug")
    if slug != slug_expected:
        reader.error("slug", f"must be the file name without .yaml ({slug_expected!r})")
    if not isinstance(slug, str) or not SLUG.match(slug):
        reader.error("slug", "must be lowercase letters, digits and hyphens")
    version = reader.integer(data.get("version"), "version", 1)
    agency = agencies.get(data.get("agency"))  # type: ignore[arg-type]
    if agency is None:
        reader.error("agency", f"must be one of agencies.yaml: {', '.join(sorted(agencies))}")
    topics = reader.choices(data.get("topics"), "topics", tuple(TOPICS), 1)
    life_events = reader.choices(data.get("life_events"), "life_events", tuple(LIFE_EVENTS), 0)
    channels = reader.choices(data.get("channels"), "channels", CHANNELS, 1)
    fee = reader.decimal(reader.required(data, "fee", ""), "fee")
    if fee is not None and fee < 0:
        reader.error("fee", "cannot be negative")
    expected_days = reader.integer(data.get("expected_days"), "expected_days", 0)
    legal = reader.mapping(reader.required(data, "legal", ""), "legal")
    reader.only(legal, "legal", {"max_resolution_months", "silence"})
    months = reader.integer(legal.get("max_resolution_months"), "legal.max_resolution_months", 1)
    silence = reader.choice(legal.get("silence"), "legal.silence", SILENCE)
    workflow = workflows.get(data.get("workflow"))  # type: ignore[arg-type]
    if workflow is None:
        reader.error("workflow", f"must be one of workflows/: {', '.join(sorted(workflows))}")
    keywords = _keywords(reader, data.get("keywords"))
    texts = _texts(reader, data.get("texts"))
    consultations = _consultations(reader, data.get("consultations"))
    form = None
    appointment = None
    if "form" in data and "appointment" in data:
        reader.error("", "has both a form and an appointment: choose one")
    if "form" in data:
        form = _form(reader, data.get("form"), {c.id for c in consultations})
    elif "appointment" in data:
        node = reader.mapping(data.get("appointment"), "appointment")
        reader.only(node, "appointment", {"service"})
        appointment = reader.identifier(node.get("service"), "appointment.service", SLUG)
    elif consultations:
        reader.error(
            "consultations", "only a procedure with a form can consult other administrations"
        )
    certificate = None
    if "certificate" in data:
        certificate = _certificate(reader, data.get("certificate"), form)
    if reader.errors:
        return None, reader.errors
    assert agency is not None and workflow is not None and fee is not None  # noqa: S101 - for the type checker; guaranteed by the caller
    return (
        Procedure(
            slug=slug_expected,
            version=version,
            agency=agency,
            topics=topics,
            life_events=life_events,
            channels=channels,
            fee=fee,
            expected_days=expected_days,
            max_resolution_months=months,
            silence=silence,
            workflow=workflow,
            keywords=keywords,
            texts=texts,
            consultations=consultations,
            form=form,
            appointment_service=appointment,
            certificate=certificate,
            sha256=hashlib.sha256(source.encode()).hexdigest(),
            source=source,
        ),
        [],
    )


def _certificate(reader: Reader, node: Any, form: Form | None) -> DocumentTemplate | None:
    node = reader.mapping(node, "certificate")
    reader.only(node, "certificate", {"title", "body"})
    title = reader.text(node.get("title"), "certificate.title")
    body = reader.text(node.get("body"), "certificate.body")
    if title is None or body is None:
        return None
    allowed = set(DOCUMENT_PLACEHOLDERS)
    if form is not None:
        allowed |= {f"answer_{one.id}" for _page, one in form.fields()}
    for lang in LANGUAGES:
        try:
            names = {name for _t, name, _s, _c in string.Formatter().parse(body(lang)) if name}
        except ValueError as error:
            reader.error(f"certificate.body.{lang}", f"is not a valid template: {error}")
            continue
        unknown = sorted(names - allowed)
        if unknown:
            reader.error(
                f"certificate.body.{lang}",
                f"unknown placeholder: {', '.join(unknown)} "
                f"(use {', '.join(DOCUMENT_PLACEHOLDERS)} or answer_<field id>)",
            )
    return DocumentTemplate(title, body)


def _keywords(reader: Reader, node: Any) -> dict[str, tuple[str, ...]]:
    node = reader.mapping(node or {}, "keywords")
    keywords = {}
    for lang, words in node.items():
        if lang not in LANGUAGES:
            reader.error(f"keywords.{lang}", "unknown language")
            continue
        if not isinstance(words, list) or not all(_non_empty_string(w) for w in words):
            reader.error(f"keywords.{lang}", "must be a list of words")
            continue
        keywords[lang] = tuple(words)
    return keywords


def _texts(reader: Reader, node: Any) -> dict[str, ProcedureTexts]:
    node = reader.mapping(node, "texts")
    texts = {}
    for lang in LANGUAGES:
        where = f"texts.{lang}"
        if lang not in node:
            reader.error(where, "is missing: every procedure is written in all six languages")
            continue
        one = reader.mapping(node[lang], where)
        reader.only(one, where, TEXT_KEYS)
        strings = {}
        for key in ("title", "summary", "description", "who_can_apply", "next_steps"):
            value = one.get(key)
            if not _non_empty_string(value):
                reader.error(_join(where, key), "is required")
            strings[key] = (value or "").strip() if isinstance(value, str) else ""
        lists = {}
        for key in ("requirements", "documents"):
            items = one.get(key) or []
            if not isinstance(items, list) or not all(_non_empty_string(i) for i in items):
                reader.error(_join(where, key), "must be a list of sentences")
                items = []
            lists[key] = tuple(i.strip() for i in items)
        texts[lang] = ProcedureTexts(**strings, **lists)
    for lang in node:
        if lang not in LANGUAGES:
            reader.error(f"texts.{lang}", "unknown language")
    if len(texts) == len(LANGUAGES):
        for key in ("requirements", "documents"):
            counts = {lang: len(getattr(texts[lang], key)) for lang in LANGUAGES}
            if len(set(counts.values())) > 1:
                reader.error(
                    f"texts.*.{key}", f"has a different number of items per language: {counts}"
                )
    return texts


def _consultations(reader: Reader, node: Any) -> tuple[Consultation, ...]:
    if node is None:
        return ()
    found = []
    for index, one in enumerate(reader.sequence(node, "consultations")):
        where = f"consultations[{index}]"
        one = reader.mapping(one, where)
        reader.only(one, where, {"id", "administration", "data", "document"})
        item = Consultation(
            reader.identifier(one.get("id"), _join(where, "id")),
            *(
                reader.text(one.get(k), _join(where, k))
                for k in ("administration", "data", "document")
            ),  # type: ignore[arg-type]
        )
        found.append(item)
    ids = [c.id for c in found]
    if len(ids) != len(set(ids)):
        reader.error("consultations", "ids must be unique")
    return tuple(found)


def _form(reader: Reader, node: Any, consultation_ids: set[str]) -> Form | None:
    node = reader.mapping(node, "form")
    reader.only(node, "form", {"pages"})
    pages: list[Page] = []
    seen_fields: dict[str, Field] = {}
    page_ids: set[str] = set()
    for index, page_node in enumerate(reader.sequence(node.get("pages"), "form.pages")):
        where = f"form.pages[{index}]"
        page_node = reader.mapping(page_node, where)
        reader.only(page_node, where, {"id", "title", "section", "show_if", "fields"})
        page_id = reader.identifier(page_node.get("id"), _join(where, "id"))
        if (
            page_id in page_ids
            or page_id in ("check", "tasks")
            or page_id.startswith("consultations")
        ):
            reader.error(
                _join(where, "id"), "is used twice or is reserved (check, tasks, consultations…)"
            )
        page_ids.add(page_id)
        condition = _condition(
            reader, page_node.get("show_if"), _join(where, "show_if"), seen_fields
        )
        fields = []
        for field_index, field_node in enumerate(
            reader.sequence(page_node.get("fields"), _join(where, "fields"))
        ):
            one = _field(reader, field_node, f"{where}.fields[{field_index}]")
            if one is None:
                continue
            if one.id in seen_fields or one.id.startswith("oppose_"):
                reader.error(
                    f"{where}.fields[{field_index}].id",
                    "is used twice in the form or starts with the reserved oppose_",
                )
            fields.append(one)
        title = reader.text(page_node.get("title"), _join(where, "title"), required=False)
        if len(fields) > 1 and title is None:
            reader.error(_join(where, "title"), "is required when a page has more than one field")
        section = reader.text(page_node.get("section"), _join(where, "section"), required=False)
        for one in fields:
            seen_fields[one.id] = one
        if fields:
            pages.append(Page(page_id, tuple(fields), title, section, condition))
    sectioned = [page.section is not None for page in pages]
    if any(sectioned) and not all(sectioned):
        reader.error("form.pages", "either every page has a section or none does")
    return Form(tuple(pages)) if pages else None


def _condition(
    reader: Reader, node: Any, path: str, earlier: Mapping[str, Field]
) -> Condition | None:
    if node is None:
        return None
    node = reader.mapping(node, path)
    reader.only(node, path, {"field", "equals", "in"})
    target = earlier.get(node.get("field"))  # type: ignore[arg-type]
    if target is None:
        reader.error(_join(path, "field"), "must name a field on an earlier page")
        return None
    if ("equals" in node) == ("in" in node):
        reader.error(path, "needs exactly one of equals or in")
        return None
    values = [node["equals"]] if "equals" in node else node["in"]
    if not isinstance(values, list) or not values:
        reader.error(_join(path, "in"), "must be a list of values")
        return None
    values = ["yes" if v is True else "no" if v is False else v for v in values]
    allowed = (
        {o.value for o in target.options}
        if target.options
        else ({"yes", "no"} if target.type == "yes_no" else None)
    )
    for value in values:
        if allowed is not None and value not in allowed:
            reader.error(
                path,
                f"{value!r} is not an answer {target.id} can have ({', '.join(sorted(allowed))})",
            )
    return Condition(target.id, tuple(str(v) for v in values))


def _field(reader: Reader, node: Any, path: str) -> Field | None:
    node = reader.mapping(node, path)
    reader.only(node, path, FIELD_KEYS)
    field_id = reader.identifier(node.get("id"), _join(path, "id"))
    kind = reader.choice(node.get("type"), _join(path, "type"), FIELD_TYPES)
    label = reader.text(node.get("label"), _join(path, "label"))
    hint = reader.text(node.get("hint"), _join(path, "hint"), required=False)
    options: list[Option] = []
    if kind in WITH_OPTIONS:
        for index, option in enumerate(
            reader.sequence(
                node.get("options"), _join(path, "options"), 2 if kind != "checkboxes" else 1
            )
        ):
            where = f"{path}.options[{index}]"
            option = reader.mapping(option, where)
            reader.only(option, where, {"value", "label"})
            value = reader.identifier(option.get("value"), _join(where, "value"))
            text = reader.text(option.get("label"), _join(where, "label"))
            if text:
                options.append(Option(value, text))
        if len({o.value for o in options}) != len(options):
            reader.error(_join(path, "options"), "values must be unique")
    elif "options" in node:
        reader.error(
            _join(path, "options"), f"only radios, select and checkboxes have options, not {kind}"
        )
    prefill = node.get("prefill")
    if prefill is not None:
        reader.choice(prefill, _join(path, "prefill"), PREFILL_SOURCES)
        if prefill in PREFILL_TYPES and kind not in PREFILL_TYPES[prefill]:
            reader.error(
                _join(path, "prefill"),
                f"{prefill} fills a {'/'.join(PREFILL_TYPES[prefill])} field, not {kind}",
            )
    autocomplete = node.get("autocomplete")
    if autocomplete is not None and not (
        isinstance(autocomplete, str) and re.match(r"^[a-z0-9 -]+$", autocomplete)
    ):
        reader.error(_join(path, "autocomplete"), "must be an HTML autocomplete token")
    if (
        prefill in ("given_name", "family_name", "email", "phone", "birth_date")
        and not autocomplete
    ):
        reader.error(_join(path, "autocomplete"), "is required on a field about the citizen")
    pattern = node.get("pattern")
    check = node.get("check")
    if check is not None:
        check = reader.choice(check, _join(path, "check"), tuple(CHECKS))
    pattern_error = reader.text(
        node.get("pattern_error"),
        _join(path, "pattern_error"),
        required=pattern is not None or check is not None,
    )
    if pattern is not None:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as error:
            reader.error(_join(path, "pattern"), f"is not a regular expression: {error}")
    max_length = node.get("max_length")
    if max_length is not None:
        max_length = reader.integer(max_length, _join(path, "max_length"), 1)
    width = node.get("width")
    if width is not None:
        width = int(reader.choice(width, _join(path, "width"), (2, 4, 10, 20)) or 20)
    minimum = reader.decimal(node.get("min"), _join(path, "min"))
    maximum = reader.decimal(node.get("max"), _join(path, "max"))
    type_keys = {
        "number": {"min", "max", "whole", "width"},
        "date": {"past", "future", "autocomplete"},
        "text": {"max_length", "autocomplete", "width", "pattern", "pattern_error", "check"},
        "textarea": {"max_length"},
        "email": {"autocomplete"},
        "phone": {"autocomplete"},
        "checkboxes": {"min_choices"},
        "file": {"may_be_already_provided"},
    }
    for key in FIELD_KEYS - {"id", "type", "label", "hint", "optional", "options", "prefill"}:
        if key in node and key not in type_keys.get(kind, set()):
            reader.error(_join(path, key), f"does not apply to a {kind or '?'} field")
    min_choices = node.get("min_choices")
    if min_choices is not None:
        min_choices = reader.integer(min_choices, _join(path, "min_choices"), 1)
    past, future = reader.boolean(node, "past", path), reader.boolean(node, "future", path)
    if past and future:
        reader.error(path, "a date cannot be both past and future")
    if label is None or not field_id or not kind:
        return None
    return Field(
        id=field_id,
        type=kind,
        label=label,
        hint=hint,
        optional=reader.boolean(node, "optional", path),
        options=tuple(options),
        autocomplete=autocomplete,
        prefill=prefill,
        max_length=max_length,
        min=minimum,
        max=maximum,
        whole=node.get("whole", True) is not False,
        past=past,
        future=future,
        width=width,
        pattern=pattern,
        pattern_error=pattern_error,
        check=check or None,
        may_be_already_provided=reader.boolean(node, "may_be_already_provided", path),
        min_choices=min_choices,
    )


@dataclass
class Catalogue:
    """What loaded: the procedures in title order, and the errors of the files left out."""

    procedures: dict[str, Procedure]
    agencies: dict[str, Agency]
    errors: list[DefinitionError]

    def get(self, slug: str) -> Procedure | None:
        return self.procedures.get(slug)

    def __iter__(self) -> Iterator[Procedure]:
        return iter(self.procedures.values())

    def __len__(self) -> int:
        return len(self.procedures)

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256("".join(sorted(p.sha256 for p in self)).encode()).hexdigest()


def _load_shared(
    directory: Path,
) -> tuple[dict[str, Agency], dict[str, Workflow], list[DefinitionError]]:
    """The agencies and workflows every definition refers to."""
    agencies, errors = load_agencies(directory)
    workflows: dict[str, Workflow] = {}
    for path in sorted((directory / "workflows").glob("*.yaml")):
        workflow, workflow_errors = load_workflow(path)
        errors += workflow_errors
        if workflow is not None:
            workflows[workflow.name] = workflow
    return agencies, workflows, errors


def load_catalogue(directory: Path = DEFINITIONS_DIR) -> Catalogue:
    """Every valid definition in ``directory``; invalid files are logged and left out."""
    agencies, workflows, errors = _load_shared(directory)
    procedures: dict[str, Procedure] = {}
    for path in sorted(directory.glob("*.yaml")):
        if path.name in SHARED_FILES:
            continue
        procedure, procedure_errors = load_procedure(path, agencies, workflows)
        errors += procedure_errors
        if procedure is not None:
            procedures[procedure.slug] = procedure
    for error in errors:
        log.error("procedure definition left out: %s", error)
    return Catalogue(procedures, agencies, errors)


def parse_source(slug: str, source: str, directory: Path = DEFINITIONS_DIR) -> Procedure:
    """A definition from stored text (the version an application was filled against)."""
    agencies, workflows, _ = _load_shared(directory)
    procedure, errors = read_procedure(slug, source, agencies, workflows)
    if procedure is None:
        raise DefinitionsInvalidError(errors)
    return procedure


def main() -> int:
    """``python -m procedures.definitions [DIRECTORY]``: check every file, print every error."""
    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFINITIONS_DIR
    from procedures.offices import load_offices  # it reads this module's agencies

    catalogue = load_catalogue(directory)
    offices = load_offices(directory)
    errors = catalogue.errors + offices.errors
    for error in errors:
        print(error)
    print(
        f"{len(catalogue)} procedures and {len(offices.offices)} offices valid, "
        f"{len(errors)} errors",
        file=sys.stderr,
    )
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
