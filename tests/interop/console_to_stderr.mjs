// Imported first by op_server.mjs, before anything loads `oidc-provider`.
//
// oidc-provider logs through console.info / console.warn, and console.info is stdout: send all
// of it to stderr so that stdout carries the ready line only. The "unsupported runtime" notice
// (oidc-provider 9 wants Node 22+, it runs fine on Node 20) is dropped; oidc-provider prints it
// while it is being loaded, hence this module's place at the head of the import list.
import util from 'node:util';

const toStderr = (...args) => {
  const line = util.format(...args);
  if (/Unsupported runtime/.test(line)) return;
  process.stderr.write(`${line}\n`);
};
console.log = toStderr;
console.info = toStderr;
console.warn = toStderr;
console.debug = toStderr;
