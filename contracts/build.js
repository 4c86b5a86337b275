#!/usr/bin/env node
// Compiles contracts/ with the pinned solcjs (npm `solc`) and OpenZeppelin (npm) into deterministic JSON
// artifacts: movieminter/chain/artifacts/<Name>.json (test helpers under artifacts/test/).
//   node contracts/build.js [--out DIR]
// The same sources and settings always give byte-identical files (the test suite rebuilds and compares).
'use strict';

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const solc = require('solc');

const ROOT = path.resolve(__dirname, '..');
const NODE_MODULES = path.join(ROOT, 'node_modules');

// Fixed compiler settings: changing any of them changes the artifacts (and the committed check fails).
const SETTINGS = {
  evmVersion: 'cancun',
  optimizer: { enabled: true, runs: 2000 },
  viaIR: false,
  metadata: { bytecodeHash: 'ipfs' },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'devdoc', 'userdoc'] } },
};

// Contracts we write artifacts for: source unit -> [contract name, output subfolder].
const TARGETS = {
  'contracts/MovieMinter.sol': ['MovieMinter', ''],
  'contracts/Community.sol': ['Community', ''],
  'contracts/test/MaliciousReceiver.sol': ['MaliciousReceiver', 'test'],
};

function sha256(text) {
  return crypto.createHash('sha256').update(text).digest('hex');
}

function readSource(unit) {
  // Our own sources resolve from the repository root; imports from npm packages from node_modules only.
  const candidates = unit.startsWith('contracts/') ? [path.join(ROOT, unit)] : [path.join(NODE_MODULES, unit)];
  for (const file of candidates) {
    const resolved = path.resolve(file);
    if (!resolved.startsWith(ROOT + path.sep)) break; // never read outside the project
    if (fs.existsSync(resolved)) return fs.readFileSync(resolved, 'utf8');
  }
  return null;
}

function main() {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  const outDir = outIndex >= 0 ? path.resolve(args[outIndex + 1]) : path.join(ROOT, 'movieminter', 'chain', 'artifacts');

  const sources = {};
  for (const unit of Object.keys(TARGETS)) sources[unit] = { content: readSource(unit) };
  const input = { language: 'Solidity', sources, settings: SETTINGS };

  const used = {};
  const findImports = (unit) => {
    // Relative imports arrive already resolved against the importing unit (e.g. contracts/SwapOrNot.sol).
    const content = readSource(unit);
    if (content === null) return { error: `not found: ${unit} (run npm ci)` };
    used[unit] = content;
    return { contents: content };
  };

  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const errors = (output.errors || []).filter((e) => e.severity === 'error');
  // 2394: the transient-storage notice OpenZeppelin's ReentrancyGuardTransient triggers by design.
  for (const e of output.errors || []) if (e.errorCode !== '2394') process.stderr.write(e.formattedMessage + '\n');
  if (errors.length) process.exit(1);

  for (const [unit, src] of Object.entries(sources)) used[unit] = src.content;
  const sourceHashes = {};
  for (const unit of Object.keys(used).sort()) sourceHashes[unit] = sha256(used[unit]);

  for (const [unit, [name, sub]] of Object.entries(TARGETS)) {
    const c = output.contracts[unit][name];
    const artifact = {
      contractName: name,
      sourceName: unit,
      abi: c.abi,
      bytecode: '0x' + c.evm.bytecode.object,
      deployedBytecode: '0x' + c.evm.deployedBytecode.object,
      compiler: { name: 'solc', version: solc.version(), settings: { ...SETTINGS, outputSelection: undefined } },
      sourceHashes,
      devdoc: c.devdoc,
      userdoc: c.userdoc,
    };
    const dir = path.join(outDir, sub);
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${name}.json`);
    fs.writeFileSync(file, JSON.stringify(artifact, null, 2) + '\n');
    const size = c.evm.deployedBytecode.object.length / 2;
    process.stdout.write(`wrote ${path.relative(ROOT, file)} (${size} bytes deployed)\n`);
  }
}

main();
