/* Movie Minter wallet connection: EIP-6963 discovery (fallback: window.ethereum),
 * chain check/switch/add, Sign-In with Ethereum, and sending the unsigned
 * transactions the server prepares. Keys never leave the wallet; the server
 * only sees addresses, signatures and transaction hashes.
 *
 * window.MMWallet API:
 *   providers()                 -> [{info:{uuid,name,icon,rdns}, provider}]
 *   connect(uuid?)              -> {address, chainId}  (asks accounts, switches chain, signs in)
 *   disconnect()
 *   ensureChain()               -> switch (or add, on 4902) to the app's chain
 *   sendTransaction(tx)         -> tx hash (tx prepared by the server)
 *   state                       -> {address, chainId, signedIn, walletName, config}
 * Every change fires document event "mm-wallet" with detail = state.
 * Errors are Error objects with .code (4001 = user rejected) and .hint.
 */
(function () {
  "use strict";
  if (window.MMWallet) return;

  const discovered = new Map(); // uuid -> {info, provider}
  const state = { address: null, chainId: null, signedIn: false, walletName: null, config: null };
  let active = null; // the EIP-1193 provider in use

  window.addEventListener("eip6963:announceProvider", (event) => {
    const d = event.detail;
    if (!d || !d.info || !d.provider || !d.info.uuid) return;
    discovered.set(d.info.uuid, { info: d.info, provider: d.provider });
    emit();
  });
  window.dispatchEvent(new Event("eip6963:requestProvider"));

  function emit() {
    document.dispatchEvent(new CustomEvent("mm-wallet", { detail: Object.assign({}, state) }));
  }

  function fail(message, hint, code) {
    const err = new Error(message);
    err.hint = hint || "";
    if (code !== undefined) err.code = code;
    return err;
  }

  // Wallets nest the real code in different places (MetaMask mobile wraps 4902 in -32603).
  function codeOf(err) {
    if (!err) return undefined;
    const nested = err.data && (err.data.originalError || err.data);
    return err.code !== undefined && err.code !== -32603 ? err.code : (nested && nested.code) || err.code;
  }

  function explainWalletError(err, what) {
    const code = codeOf(err);
    if (code === 4001) return fail(`You declined ${what} in your wallet.`, "Nothing was sent. Click the button again when you are ready.", 4001);
    if (code === 4100) return fail("Your wallet has not authorised this site.", "Open your wallet and connect this site, then try again.", 4100);
    if (code === -32002) return fail("Your wallet already has a request waiting.", "Open your wallet extension and answer the pending request.", -32002);
    return fail(`Your wallet could not handle ${what}: ${(err && err.message) || err}`, "Check your wallet, then try again.", code);
  }

  // Relative URLs (the app is served at / and under A1111's /movieminter/ proxy), CSRF token
  // via mm-fetch.js (window.mmFetch), which throws errors carrying the API's message and hint.
  async function api(path, options) {
    const opts = Object.assign({ method: "GET" }, options || {});
    if (opts.body !== undefined) { opts.json = opts.body; delete opts.body; }
    if (!window.mmFetch) throw fail("The page did not load completely (mm-fetch.js is missing).", "Reload the page.");
    try {
      return await window.mmFetch(path, opts);
    } catch (err) {
      if (err && err.status) {
        if (!err.message || err.message === "undefined") err.message = `Request failed (${err.status}).`;
        err.hint = err.hint || "";
        throw err;
      }
      throw fail("The Movie Minter app is not reachable.", "Check that the app is running (the A1111 console shows its log), then reload the page.");
    }
  }

  async function config() {
    if (!state.config) state.config = await api("api/v1/auth/config");
    return state.config;
  }

  function pickProvider(uuid) {
    if (uuid && discovered.has(uuid)) return discovered.get(uuid);
    if (discovered.size === 1 && !uuid) return discovered.values().next().value;
    if (!uuid && window.ethereum) return { info: { uuid: "injected", name: "Browser wallet", icon: "" }, provider: window.ethereum };
    if (uuid === "injected" && window.ethereum) return { info: { uuid: "injected", name: "Browser wallet", icon: "" }, provider: window.ethereum };
    return null;
  }

  function providers() {
    const list = Array.from(discovered.values());
    if (!list.length && window.ethereum) list.push({ info: { uuid: "injected", name: "Browser wallet", icon: "" }, provider: window.ethereum });
    return list;
  }

  function onAccountsChanged(accounts) {
    const next = accounts && accounts[0] ? accounts[0].toLowerCase() : null;
    if (next === (state.address || "").toLowerCase()) return;
    // A different account is not the one the session signed in with: sign out.
    state.address = next;
    if (state.signedIn) {
      state.signedIn = false;
      api("api/v1/auth/logout", { method: "POST" }).catch(() => {});
    }
    state.notice = next ? "Your wallet switched accounts. Sign in again to use this account." : "Your wallet disconnected.";
    emit();
  }

  function onChainChanged(chainId) {
    state.chainId = parseInt(chainId, 16);
    emit();
  }

  function attach(provider) {
    if (active === provider) return;
    detach();
    active = provider;
    if (provider.on) {
      provider.on("accountsChanged", onAccountsChanged);
      provider.on("chainChanged", onChainChanged);
    }
  }

  function detach() {
    if (active && active.removeListener) {
      active.removeListener("accountsChanged", onAccountsChanged);
      active.removeListener("chainChanged", onChainChanged);
    }
    active = null;
  }

  async function request(method, params, what) {
    if (!active) throw fail("No wallet is connected.", "Click Connect wallet first.");
    try {
      return await active.request({ method, params: params || [] });
    } catch (err) {
      throw explainWalletError(err, what || method);
    }
  }

  async function ensureChain() {
    const cfg = await config();
    const want = cfg.chain_id;
    const hex = "0x" + want.toString(16);
    const current = parseInt(await request("eth_chainId", [], "the network check"), 16);
    if (current === want) { state.chainId = want; return want; }
    try {
      await active.request({ method: "wallet_switchEthereumChain", params: [{ chainId: hex }] });
    } catch (err) {
      if (codeOf(err) !== 4902) throw explainWalletError(err, `the switch to ${cfg.chain_name}`);
      // The wallet does not know the chain yet: add it, then switch.
      await request("wallet_addEthereumChain", [{
        chainId: hex, chainName: cfg.chain_name, rpcUrls: cfg.rpc_urls,
        nativeCurrency: cfg.native_currency, blockExplorerUrls: cfg.explorer_url ? [cfg.explorer_url] : undefined,
      }], `adding the ${cfg.chain_name} network`);
      await request("wallet_switchEthereumChain", [{ chainId: hex }], `the switch to ${cfg.chain_name}`);
    }
    const now = parseInt(await request("eth_chainId", [], "the network check"), 16);
    if (now !== want) throw fail(`Your wallet is still on chain ${now}, not ${cfg.chain_name} (${want}).`, `Switch your wallet to ${cfg.chain_name} and try again.`);
    state.chainId = now;
    emit();
    return now;
  }

  function utf8Hex(text) {
    return "0x" + Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function signIn() {
    const cfg = await config();
    const q = new URLSearchParams({ address: state.address, chain_id: String(cfg.chain_id),
      domain: window.location.host, uri: window.location.href.split("#")[0] });
    const { message } = await api("api/v1/auth/nonce?" + q.toString());
    const signature = await request("personal_sign", [utf8Hex(message), state.address], "the sign-in message");
    const session = await api("api/v1/auth/verify", { method: "POST", body: { message, signature } });
    state.address = session.address;
    state.signedIn = true;
    state.notice = null;
    emit();
    return session;
  }

  async function connect(uuid) {
    const chosen = pickProvider(uuid);
    if (!chosen) throw fail("No Ethereum wallet was found in this browser.", "Install a wallet such as MetaMask or Rabby, then reload this page.");
    attach(chosen.provider);
    state.walletName = chosen.info.name;
    const accounts = await request("eth_requestAccounts", [], "the connection request");
    if (!accounts || !accounts.length) throw fail("The wallet shared no account.", "Unlock your wallet and choose an account.");
    state.address = accounts[0];
    emit();
    await ensureChain();
    await signIn();
    try { localStorage.setItem("mm.wallet", chosen.info.uuid); } catch (e) { /* private mode */ }
    return { address: state.address, chainId: state.chainId };
  }

  async function disconnect() {
    try { await api("api/v1/auth/logout", { method: "POST" }); } catch (e) { /* already signed out */ }
    if (active) {
      try { await active.request({ method: "wallet_revokePermissions", params: [{ eth_accounts: {} }] }); } catch (e) { /* optional */ }
    }
    detach();
    Object.assign(state, { address: null, chainId: null, signedIn: false, walletName: null, notice: null });
    try { localStorage.removeItem("mm.wallet"); } catch (e) { /* private mode */ }
    emit();
  }

  async function sendTransaction(tx, what) {
    if (!state.signedIn) throw fail("Connect and sign in with your wallet first.", "Click Connect wallet at the top of the page.");
    await ensureChain();
    const accounts = await request("eth_accounts", [], "the account check");
    if (!accounts.length || accounts[0].toLowerCase() !== state.address.toLowerCase())
      throw fail("Your wallet's active account is not the one you signed in with.", "Switch back to " + state.address + " in your wallet, or sign in again.");
    const clean = {};
    for (const k of ["from", "to", "data", "value", "gas", "maxFeePerGas", "maxPriorityFeePerGas", "gasPrice", "nonce"]) {
      if (tx[k] === undefined || tx[k] === null) continue;
      clean[k] = typeof tx[k] === "number" ? "0x" + tx[k].toString(16) : tx[k];
    }
    const cost = await estimateCost(tx);
    state.lastCost = cost;
    document.dispatchEvent(new CustomEvent("mm-cost", { detail: { what: what || "the transaction", cost } }));
    return await request("eth_sendTransaction", [clean], what || "the transaction");
  }

  // Exact ETH from wei (BigInt: no float noise such as 0.004000000000000004).
  function formatEth(wei, digits) {
    const w = BigInt(wei || 0), unit = 10n ** 18n;
    let frac = (w % unit).toString().padStart(18, "0");
    if (digits != null && w > 0n && w < unit) {  // small amounts: significant digits, not 18 decimals
      const first = frac.search(/[1-9]/);
      frac = frac.slice(0, Math.min(18, first + digits));
    }
    frac = frac.replace(/0+$/, "");
    return (w / unit).toString() + (frac ? "." + frac : "") + " ETH";
  }

  // What a prepared transaction costs at most: its value plus gas limit × the current gas price
  // (the wallet's own RPC answers eth_gasPrice; shown before the wallet asks for the signature).
  async function estimateCost(tx) {
    const value = BigInt(tx.value || 0), gas = BigInt(tx.gas || 0);
    let price = 0n;
    try { price = BigInt(await active.request({ method: "eth_gasPrice", params: [] })); } catch (e) { /* unknown: value only */ }
    const gasWei = gas * price;
    return { value, gasWei, total: value + gasWei,
      text: `${formatEth(value)} + up to ${formatEth(gasWei, 3)} gas${price ? "" : " (gas price unknown)"}` };
  }

  // Resume the server session after a reload (the cookie is HttpOnly; ask the server).
  async function restore() {
    try {
      const me = await api("api/v1/auth/me");
      if (!me.authenticated) return;
      const uuid = (() => { try { return localStorage.getItem("mm.wallet"); } catch (e) { return null; } })();
      const chosen = pickProvider(uuid || undefined);
      if (!chosen) return;
      attach(chosen.provider);
      const accounts = await chosen.provider.request({ method: "eth_accounts", params: [] });
      if (!accounts.length || accounts[0].toLowerCase() !== me.address.toLowerCase()) return;
      Object.assign(state, { address: me.address, chainId: me.chain_id, signedIn: true, walletName: chosen.info.name });
      emit();
    } catch (e) { /* not signed in */ }
  }

  window.MMWallet = { providers, connect, disconnect, ensureChain, sendTransaction, signIn, api, state, restore, config, formatEth, estimateCost };
  setTimeout(restore, 50);
})();
