// Runs graphql-http's server audits (GraphQL over HTTP) against one URL,
// prints each result and exits non-zero unless every audit passes.
// Called by scripts/http-audit, which installs the pinned packages and
// starts a hub:  node scripts/http-audit.cjs http://127.0.0.1:PORT/graphql
'use strict';
const modules = process.env.HTTP_AUDIT_MODULES;
const { serverAudits } = require(require.resolve('graphql-http', { paths: [modules] }));
const version = require(require.resolve('graphql-http/package.json', { paths: [modules] })).version;

(async () => {
  const url = process.argv[2];
  if (!url) {
    console.error('usage: node scripts/http-audit.cjs URL');
    process.exit(2);
  }
  const audits = serverAudits({ url });
  let ok = 0;
  for (const audit of audits) {
    let result;
    try {
      result = await audit.fn();
    } catch (err) {
      result = { status: 'error', reason: String(err) };
    }
    if (result.status === 'ok') ok++;
    const line = `${result.status.padEnd(5)} ${audit.id} ${audit.name}`;
    console.log(result.status === 'ok' ? line : `${line}\n      ${result.reason}`);
  }
  console.log(`graphql-http ${version} server audits: ${ok}/${audits.length} passed`);
  process.exit(ok === audits.length ? 0 : 1);
})();
