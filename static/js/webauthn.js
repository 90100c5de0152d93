/*
 * Passkeys and security keys: the one piece of the portal that needs JavaScript.
 *
 * A form marked data-webauthn="create" (register) or "get" (sign in) is
 * submitted normally, after this script has asked the server for options
 * (POST to data-options-url with the form's CSRF token), asked the browser's
 * WebAuthn API, and put the answer in the form's hidden "credential" field.
 * The server checks the answer and replies with an ordinary page, so its
 * errors appear like any other form's.
 *
 * Errors from the browser are shown in an error summary that takes focus;
 * progress is announced through the form's role="status" region. Every text
 * comes from the page's data- attributes, already translated.
 *
 * Without this script (or without WebAuthn in the browser) the elements
 * marked data-webauthn-supported stay hidden and the message marked
 * data-webauthn-unsupported says what to do instead.
 */
(function () {
  "use strict";

  function fromBase64url(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    var padded = base64 + "===".slice((base64.length + 3) % 4);
    var binary = atob(padded);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i += 1) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i += 1) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(json) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    json.challenge = fromBase64url(json.challenge);
    json.user.id = fromBase64url(json.user.id);
    (json.excludeCredentials || []).forEach(function (credential) {
      credential.id = fromBase64url(credential.id);
    });
    return json;
  }

  function requestOptions(json) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    json.challenge = fromBase64url(json.challenge);
    (json.allowCredentials || []).forEach(function (credential) {
      credential.id = fromBase64url(credential.id);
    });
    return json;
  }

  function credentialJSON(credential) {
    if (typeof credential.toJSON === "function") {
      return credential.toJSON();
    }
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      response: { clientDataJSON: toBase64url(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      json.response.attestationObject = toBase64url(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toBase64url(response.authenticatorData);
      json.response.signature = toBase64url(response.signature);
      if (response.userHandle) {
        json.response.userHandle = toBase64url(response.userHandle);
      }
    }
    return json;
  }

  function showError(form, message, targetId) {
    var main = document.getElementById("main");
    var old = document.getElementById("webauthn-error-summary");
    if (old) {
      old.parentNode.removeChild(old);
    }
    var summary = document.createElement("div");
    summary.className = "error-summary";
    summary.id = "webauthn-error-summary";
    summary.setAttribute("tabindex", "-1");
    summary.setAttribute("aria-labelledby", "webauthn-error-summary-title");
    var alert = document.createElement("div");
    alert.setAttribute("role", "alert");
    var title = document.createElement("h2");
    title.className = "error-summary__title";
    title.id = "webauthn-error-summary-title";
    title.textContent = form.dataset.errorTitle;
    var list = document.createElement("ul");
    list.className = "error-summary__list";
    var item = document.createElement("li");
    var link = document.createElement("a");
    link.href = "#" + (targetId || form.querySelector("button[type=submit]").id);
    link.textContent = message;
    item.appendChild(link);
    list.appendChild(item);
    alert.appendChild(title);
    alert.appendChild(list);
    summary.appendChild(alert);
    main.insertBefore(summary, main.firstChild);
    if (document.title.indexOf(form.dataset.errorPrefix) !== 0) {
      document.title = form.dataset.errorPrefix + " " + document.title;
    }
    summary.focus();
  }

  function messageFor(form, error) {
    var name = error && error.name;
    if (name === "NotAllowedError" || name === "AbortError") {
      return form.dataset.errorNotAllowed;
    }
    if (name === "InvalidStateError") {
      return form.dataset.errorInvalidState;
    }
    if (name === "NotSupportedError") {
      return form.dataset.errorNotSupported;
    }
    return form.dataset.errorGeneric;
  }

  function setStatus(form, text) {
    var status = form.querySelector("[role=status]");
    if (status) {
      status.textContent = text;
    }
  }

  function csrfToken(form) {
    var input = form.querySelector("input[name$=csrf_token]");
    return input ? input.value : "";
  }

  function start(form) {
    var mode = form.dataset.webauthn;
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    setStatus(form, form.dataset.statusWaiting);
    fetch(form.dataset.optionsUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(form), "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) {
        var failure = new Error("options " + response.status);
        failure.name = "OptionsError";
        throw failure;
      }
      return response.json();
    }).then(function (json) {
      if (mode === "create") {
        return navigator.credentials.create({ publicKey: creationOptions(json) });
      }
      return navigator.credentials.get({ publicKey: requestOptions(json) });
    }).then(function (credential) {
      form.querySelector("input[name$=credential]").value = JSON.stringify(credentialJSON(credential));
      setStatus(form, form.dataset.statusChecking);
      form.submit();
    }).catch(function (error) {
      button.disabled = false;
      setStatus(form, "");
      showError(form, messageFor(form, error));
    });
  }

  var supported = Boolean(window.PublicKeyCredential && navigator.credentials && window.fetch);
  var forms = document.querySelectorAll("form[data-webauthn]");
  Array.prototype.forEach.call(document.querySelectorAll("[data-webauthn-unsupported]"), function (element) {
    if (supported) {
      element.hidden = true;
    } else if (element.dataset.noWebauthnText) {
      element.textContent = element.dataset.noWebauthnText;
    }
  });
  if (!supported) {
    return;
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-webauthn-supported]"), function (element) {
    element.hidden = false;
  });
  Array.prototype.forEach.call(forms, function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      // A registration needs its name first: otherwise the device would keep
      // a passkey that the server then refuses to record.
      var name = form.querySelector("input[name=name]");
      if (name && !name.value.trim()) {
        showError(form, form.dataset.errorName, name.id);
        return;
      }
      start(form);
    });
  });
}());
