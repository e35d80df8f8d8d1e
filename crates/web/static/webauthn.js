// rempart's only script: the passkey ceremonies of the pages, over the JSON API
// (/api/v1/auth/*, /api/v1/me/passkeys/*). No framework, no inline code (CSP).
"use strict";
(function () {
  function b64urlToBuf(s) {
    const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    const pad = b64.length % 4 === 0 ? "" : "=".repeat(4 - (b64.length % 4));
    const bin = atob(b64 + pad);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function bufToB64url(buf) {
    const bytes = new Uint8Array(buf);
    let bin = "";
    for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function status(text, isError) {
    const el = document.getElementById("status");
    if (el) {
      el.textContent = text;
      el.className = isError ? "status error" : "status";
    }
  }
  async function post(path, body) {
    const res = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body === undefined ? {} : body),
    });
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
    if (!res.ok) {
      const detail = data && (data.detail || data.title);
      throw new Error(detail || "The server answered " + res.status + ".");
    }
    return data;
  }
  function creationOptions(options) {
    const pk = Object.assign({}, options.publicKey);
    pk.challenge = b64urlToBuf(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: b64urlToBuf(pk.user.id) });
    if (pk.excludeCredentials) {
      pk.excludeCredentials = pk.excludeCredentials.map(function (c) {
        return Object.assign({}, c, { id: b64urlToBuf(c.id) });
      });
    }
    return { publicKey: pk };
  }
  function requestOptions(options) {
    const pk = Object.assign({}, options.publicKey);
    pk.challenge = b64urlToBuf(pk.challenge);
    if (pk.allowCredentials) {
      pk.allowCredentials = pk.allowCredentials.map(function (c) {
        return Object.assign({}, c, { id: b64urlToBuf(c.id) });
      });
    }
    return { publicKey: pk };
  }
  function attestationJson(cred) {
    const r = cred.response;
    const response = {
      attestationObject: bufToB64url(r.attestationObject),
      clientDataJSON: bufToB64url(r.clientDataJSON),
    };
    if (typeof r.getTransports === "function") response.transports = r.getTransports();
    return { id: cred.id, rawId: bufToB64url(cred.rawId), type: cred.type, response: response, extensions: {} };
  }
  function assertionJson(cred) {
    const r = cred.response;
    return {
      id: cred.id,
      rawId: bufToB64url(cred.rawId),
      type: cred.type,
      response: {
        authenticatorData: bufToB64url(r.authenticatorData),
        clientDataJSON: bufToB64url(r.clientDataJSON),
        signature: bufToB64url(r.signature),
        userHandle: r.userHandle ? bufToB64url(r.userHandle) : null,
      },
      extensions: {},
    };
  }
  async function enrol(button) {
    const invitation = button.getAttribute("data-invitation");
    const start = await post("/api/v1/auth/enrol/start", { invitation: invitation });
    const cred = await navigator.credentials.create(creationOptions(start.options));
    await post("/api/v1/auth/enrol/finish", { invitation: invitation, credential: attestationJson(cred) });
    window.location.assign("/me");
  }
  async function login() {
    const start = await post("/api/v1/auth/login/start", {});
    const cred = await navigator.credentials.get(requestOptions(start.options));
    await post("/api/v1/auth/login/finish", { ceremony: start.ceremony, credential: assertionJson(cred) });
    window.location.assign("/me");
  }
  async function stepUp() {
    const start = await post("/api/v1/auth/step-up/start", {});
    const cred = await navigator.credentials.get(requestOptions(start.options));
    await post("/api/v1/auth/step-up/finish", { ceremony: start.ceremony, credential: assertionJson(cred) });
  }
  async function addPasskey() {
    await stepUp();
    const start = await post("/api/v1/me/passkeys/start", {});
    const cred = await navigator.credentials.create(creationOptions(start.options));
    const field = document.getElementById("passkey-label");
    const label = field && field.value.trim() ? field.value.trim() : null;
    await post("/api/v1/me/passkeys/finish", { ceremony: start.ceremony, credential: attestationJson(cred), label: label });
    window.location.reload();
  }
  const actions = {
    enrol: enrol,
    login: login,
    "step-up": async function () {
      await stepUp();
      status("Confirmed: sensitive actions are allowed for 5 minutes.", false);
    },
    "add-passkey": addPasskey,
  };
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.PublicKeyCredential) {
      status("This browser does not support passkeys.", true);
    }
    document.querySelectorAll("[data-action]").forEach(function (el) {
      const action = actions[el.getAttribute("data-action")];
      if (!action) return;
      el.addEventListener("click", async function () {
        el.disabled = true;
        status("Waiting for your passkey…", false);
        try {
          await action(el);
        } catch (e) {
          status((e && e.message) || "The passkey check did not complete.", true);
        } finally {
          el.disabled = false;
        }
      });
    });
  });
})();
