"""Citizens' records and their blind index for the scale benchmark, made in Python.

Names, birth dates and addresses come from short lists, so each distinct value is
encrypted once and shared (as equal values would be in no real database, but decrypting
them costs the same); DNIs and phone numbers are each citizen's own, encrypted one by one.
The blind index is computed by ``identity.lookup`` itself, so staff find these citizens
exactly as they find real ones. Surnames are drawn as they occur in Spain, a few very
often: the commonest (García) is held by about one citizen in eight, a search too vague
to show anyone.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from identity import encryption, lookup

_GIVEN = (
    "Lucía María Carmen Ana Laura Marta Elena Sara Paula Cristina Isabel Pilar Rosa Julia "
    "Nuria Raquel Silvia Beatriz Alba Noelia Antonio Manuel José Francisco David Juan "
    "Javier Daniel Carlos Jesús Alejandro Miguel Rafael Pablo Sergio Fernando Jorge Alberto "
    "Luis Álvaro Adrián Diego Iker Jordi Xabier Aitor Uxue Ainhoa Nerea Iria Xoán "
    "Montserrat Mohamed Fátima Youssef Amina Wei Andrei Ioana"
)
GIVEN = _GIVEN.split()
#: In order of how common they are.
_FAMILY = (
    "García Rodríguez González Fernández López Martínez Sánchez Pérez Gómez Martín Jiménez "
    "Ruiz Hernández Díaz Moreno Muñoz Álvarez Romero Alonso Gutiérrez Navarro Torres "
    "Domínguez Vázquez Ramos Gil Ramírez Serrano Blanco Molina Morales Suárez Ortega "
    "Delgado Castro Ortiz Rubio Marín Sanz Núñez Iglesias Medina Garrido Cortés Castillo "
    "Santos Lozano Guerrero Cano Prieto Méndez Cruz Calvo Gallego Vidal León Márquez "
    "Herrera Peña Flores Cabrera Campos Vega Fuentes Carrasco Diez Caballero Reyes Nieto "
    "Aguilar Pascual Santana Herrero Lorenzo Montero Hidalgo Giménez Ibáñez Ferrer Durán "
    "Etxeberria Puig"
)
FAMILY = _FAMILY.split()
#: Citizens who share a surname held by nobody else, at every size: a search that shows
#: several people (the commonest surnames find too many, a DNI one).
NAMESAKES = 6


def _dni(number: int) -> str:
    return f"{number:08d}{'TRWAGMYFPDXBNJZSQVHLCKE'[number % 23]}"


def _phone(number: int) -> str:
    digits = f"{600_000_000 + number:09d}"
    return f"+34 {digits[:3]} {digits[3:6]} {digits[6:]}"


def records(citizens: int) -> tuple[list[tuple], list[tuple[int, str]], dict[str, str]]:
    """Every citizen's record rows and blind index rows, as the portal would store them,
    and searches staff could make: a DNI, a full name, a common surname and one that
    finds the namesakes."""
    chooser = random.Random(20_250_301)  # noqa: S311 - test data, not secrets
    tokens: dict[str, str] = {}
    prints: dict[str, str] = {}
    now = datetime.now(UTC) - timedelta(days=365 * 4)

    def token(value: Any, cache: bool = True) -> str:
        text = json.dumps(value, ensure_ascii=False)
        if not cache:
            return encryption.encrypt(text)
        if text not in tokens:
            tokens[text] = encryption.encrypt(text)
        return tokens[text]

    def fingerprint(term: str) -> str:
        if term not in prints:
            prints[term] = lookup.fingerprint(term)
        return prints[term]

    records, terms = [], []
    searches: dict[str, str] = {}
    weights = [1 / (rank + 5) for rank in range(len(FAMILY))]
    for account_id in range(1, citizens + 1):
        given = chooser.choice(GIVEN)
        family = " ".join(chooser.choices(FAMILY, weights, k=2))
        if 2 <= account_id < 2 + NAMESAKES:
            given, family = "Amaia", "Zubizarreta Olano"
        dni = _dni(10_000_000 + account_id * 37)
        phone = _phone(account_id)
        district = f"280{account_id % 20 + 1:02d}"
        born = f"{1940 + account_id % 66}-{account_id % 12 + 1:02d}-15"
        values = {
            "given_name": (given, "police", True),
            "family_name": (family, "police", True),
            "national_id": (dni, "police", True),
            "birth_date": (born, "police", True),
            "address": (
                {
                    "street": "Calle Mayor",
                    "number": str(account_id % 90 + 1),
                    "floor_door": "",
                    "postcode": district,
                    "municipality": "Villanueva",
                    "province": "Madrid",
                },
                "municipal_census",
                True,
            ),
            "phone": (phone, "citizen", False),
        }
        for name, (value, source, verified) in values.items():
            unique = name in ("national_id", "phone")
            records.append((account_id, name, token(value, not unique), source, verified, now))
        hashed = {
            fingerprint(term) if name not in ("national_id", "phone") else lookup.fingerprint(term)
            for name, (value, _source, _verified) in values.items()
            for term in lookup.terms_of(name, value)
        }
        terms += [(account_id, one) for one in sorted(hashed)]
        if account_id == citizens // 2:
            searches = {
                "search_dni": dni,
                "search_name": f"{given} {family}",
                "search_surname": FAMILY[0],
                "search_namesakes": "Zubizarreta",
            }
    return records, terms, searches
