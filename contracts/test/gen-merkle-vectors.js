// Regenerates contracts/test/oz-merkle-tree-vectors.json with OpenZeppelin's own JS library (not a project
// dependency): in a scratch folder, npm install @openzeppelin/merkle-tree@1.0.8 && node gen-merkle-vectors.js > vectors.json
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');
const cases = [];
const addrs = ['0x1111111111111111111111111111111111111111','0x70997970C51812dc3A010C7d01b50e0d17dc79C8','0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266','0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC','0x90F79bf6EB2c4f870365E785982E1f101E93b906'];
for (const n of [1, 2, 3, 5, 8, 13]) {
  const values = [];
  for (let i = 0; i < n; i++) values.push([addrs[i % addrs.length], String(i * 7 + (i % 3))]);
  const tree = StandardMerkleTree.of(values, ['address', 'uint256']);
  cases.push({ values, root: tree.root, proofs: values.map((_, i) => tree.getProof(i)), dump: tree.dump() });
}
// a different encoding, as in OZ's README
const readme = StandardMerkleTree.of([["0x1111111111111111111111111111111111111111", "5000000000000000000"], ["0x2222222222222222222222222222222222222222", "2500000000000000000"]], ["address", "uint256"]);
console.log(JSON.stringify({ library: '@openzeppelin/merkle-tree@1.0.8', cases, readme: { root: readme.root } }, null, 1));
