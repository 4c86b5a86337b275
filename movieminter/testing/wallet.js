/* A TEST wallet standing in for MetaMask in browser tests and the demo.
 *
 * An EIP-1193 provider, announced through EIP-6963, that forwards to a local
 * anvil node. Like a hardware wallet, the signing keys stay in the signer
 * (anvil's unlocked dev accounts): personal_sign and eth_sendTransaction are
 * signed there, never by the Movie Minter server. Only for anvil test chains.
 *
 * Configure before this script runs:
 *   window.__MM_TEST_WALLET__ = {rpcUrl, accounts: ["0x..."], chainId: 31337,
 *     startChainId?: 1, knownChains?: [1], name?, announce?: true, injectWindowEthereum?: false}
 * Control from tests: window.__mmTestWallet.rejectNext(method?)  (next approval -> 4001)
 *                     window.__mmTestWallet.setAccount(i)       (fires accountsChanged)
 *                     window.__mmTestWallet.log                 (every request, in order)
 */
(function () {
  "use strict";
  const cfg = window.__MM_TEST_WALLET__;
  if (!cfg || window.__mmTestWallet) return;

  const realChain = Number(cfg.chainId || 31337);
  let chainId = Number(cfg.startChainId || realChain);
  const known = new Set((cfg.knownChains || [chainId]).map(Number));
  known.add(chainId);
  let accountIndex = 0;
  let connected = false;
  let reject = null; // method name or "*" to reject with 4001
  const listeners = {};
  const log = [];
  const APPROVALS = new Set(["eth_requestAccounts", "personal_sign", "eth_sendTransaction",
    "wallet_switchEthereumChain", "wallet_addEthereumChain"]);

  function rpcError(code, message) {
    const err = new Error(message);
    err.code = code;
    return err;
  }

  function emit(event, value) {
    (listeners[event] || []).slice().forEach((fn) => { try { fn(value); } catch (e) { console.error(e); } });
  }

  let rpcId = 0;
  async function forward(method, params) {
    const response = await fetch(cfg.rpcUrl, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++rpcId, method, params: params || [] }),
    });
    const body = await response.json();
    if (body.error) throw rpcError(body.error.code || -32603, body.error.message);
    return body.result;
  }

  const account = () => cfg.accounts[accountIndex];

  async function handle(method, params) {
    if (APPROVALS.has(method) && reject && (reject === "*" || reject === method)) {
      reject = null;
      throw rpcError(4001, "User rejected the request.");
    }
    switch (method) {
      case "eth_chainId": return "0x" + chainId.toString(16);
      case "net_version": return String(chainId);
      case "eth_accounts": return connected ? [account()] : [];
      case "eth_requestAccounts": connected = true; emit("connect", { chainId: "0x" + chainId.toString(16) }); return [account()];
      case "wallet_revokePermissions": connected = false; emit("accountsChanged", []); return null;
      case "wallet_switchEthereumChain": {
        const want = parseInt(params[0].chainId, 16);
        if (!known.has(want)) throw rpcError(4902, `Unrecognized chain ID ${params[0].chainId}. Try adding the chain using wallet_addEthereumChain first.`);
        if (want !== chainId) { chainId = want; emit("chainChanged", "0x" + want.toString(16)); }
        return null;
      }
      case "wallet_addEthereumChain": {
        const want = parseInt(params[0].chainId, 16);
        if (want !== realChain) throw rpcError(-32602, "This test wallet only reaches its anvil chain.");
        known.add(want);
        return null;
      }
      case "personal_sign": {
        if (!connected) throw rpcError(4100, "The requested account has not been authorized.");
        const [data, address] = params;
        if (address.toLowerCase() !== account().toLowerCase()) throw rpcError(4100, "Unknown account " + address);
        return forward("personal_sign", [data, account()]);
      }
      case "eth_sendTransaction": {
        if (!connected) throw rpcError(4100, "The requested account has not been authorized.");
        if (chainId !== realChain) throw rpcError(4901, "The wallet is on chain " + chainId + ".");
        const tx = Object.assign({}, params[0]);
        if ((tx.from || "").toLowerCase() !== account().toLowerCase()) throw rpcError(4100, "Unknown account " + tx.from);
        if (tx.chainId && parseInt(tx.chainId, 16) !== chainId) throw rpcError(-32602, "chainId mismatch");
        delete tx.chainId;
        return forward("eth_sendTransaction", [tx]);
      }
      default:
        if (chainId !== realChain) throw rpcError(4901, "The wallet is on chain " + chainId + ".");
        return forward(method, params);
    }
  }

  const provider = {
    isMovieMinterTestWallet: true,
    async request(args) {
      const { method, params } = args || {};
      log.push(method);
      return handle(method, params || []);
    },
    on(event, fn) { (listeners[event] = listeners[event] || []).push(fn); return provider; },
    removeListener(event, fn) { listeners[event] = (listeners[event] || []).filter((f) => f !== fn); return provider; },
  };

  const icon = "data:image/svg+xml;base64," + btoa('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#f59e0b"/><path d="M7 11h18v12H7z" fill="#fff"/><circle cx="21" cy="17" r="2" fill="#f59e0b"/></svg>');
  const info = Object.freeze({ uuid: cfg.uuid || "6f1c1f6e-0d5e-4a8b-9c55-6d1d0b7e1a01", name: cfg.name || "Test Wallet (anvil)", icon, rdns: "org.movieminter.testwallet" });
  function announce() {
    window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail: Object.freeze({ info, provider }) }));
  }
  if (cfg.announce !== false) {
    window.addEventListener("eip6963:requestProvider", announce);
    announce();
  }
  if (cfg.injectWindowEthereum) window.ethereum = provider;

  window.__mmTestWallet = {
    provider, log,
    rejectNext(method) { reject = method || "*"; },
    setAccount(i) { accountIndex = i; emit("accountsChanged", [account()]); },
    get chainId() { return chainId; },
  };
})();
