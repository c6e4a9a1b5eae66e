// Passkeys (WebAuthn): register on "my account", log in on the login page. No framework.
// The server sends PublicKeyCredential*Options as JSON (binary fields base64url); this file
// converts them for navigator.credentials and converts the answer back.
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const status = document.getElementById("passkey-status");
  const b64 = (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0)).buffer;
  const unb64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const post = async (url, body) => {
    const resp = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {}),
    });
    const data = await resp.json();
    if (!resp.ok && data.step_up) window.location.assign(data.step_up);  // confirm the second factor first
    if (!resp.ok) throw new Error(data.detail || data.title || resp.statusText);
    return data;
  };
  const say = (text) => { if (status) status.textContent = text; };
  const descriptors = (list) => (list || []).map((d) => ({ ...d, id: b64(d.id) }));

  async function register() {
    const { handle, options } = await post("/account/passkeys/options");
    const publicKey = { ...options, challenge: b64(options.challenge),
      user: { ...options.user, id: b64(options.user.id) },
      excludeCredentials: descriptors(options.excludeCredentials) };
    const cred = await navigator.credentials.create({ publicKey });
    const r = cred.response;
    const credential = { id: cred.id, rawId: unb64(cred.rawId), type: cred.type,
      response: { clientDataJSON: unb64(r.clientDataJSON), attestationObject: unb64(r.attestationObject),
        transports: r.getTransports ? r.getTransports() : [] },
      clientExtensionResults: cred.getClientExtensionResults(), authenticatorAttachment: cred.authenticatorAttachment };
    await post("/account/passkeys", { handle, credential, name: navigator.platform || "passkey" });
    window.location.reload();
  }

  async function login(next) {
    const { handle, options } = await post("/login/passkey/options");
    const publicKey = { ...options, challenge: b64(options.challenge),
      allowCredentials: descriptors(options.allowCredentials) };
    const cred = await navigator.credentials.get({ publicKey });
    const r = cred.response;
    const credential = { id: cred.id, rawId: unb64(cred.rawId), type: cred.type,
      response: { clientDataJSON: unb64(r.clientDataJSON), authenticatorData: unb64(r.authenticatorData),
        signature: unb64(r.signature), userHandle: r.userHandle ? unb64(r.userHandle) : null },
      clientExtensionResults: cred.getClientExtensionResults(), authenticatorAttachment: cred.authenticatorAttachment };
    const done = await post("/login/passkey", { handle, credential, next });
    window.location.assign(done.redirect);
  }

  const wire = (id, action) => {
    const button = document.getElementById(id);
    if (!button) return;
    if (!window.PublicKeyCredential) { button.hidden = true; return; }
    button.addEventListener("click", () => { say(""); action(button).catch((e) => say(e.message)); });
  };
  wire("add-passkey", () => register());
  wire("passkey-login", (b) => login(b.dataset.next || "/account"));
})();
