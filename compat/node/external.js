'use strict';
// Reads credentials with the unmodified @alicloud/credentials client's
// External provider and prints them as one JSON object on stdout, for
// compat/process_test.go.
//
//   node external.js default        the default chain: the current profile of ~/.aliyun/config.json
//   node external.js external CMD   the External provider running CMD itself
//
// Errors go to stderr with exit status 1.
const Credential = require('@alicloud/credentials');
const External = require('@alicloud/credentials/dist/src/providers/external').default;

function provider(type, arg) {
  switch (type) {
    case 'default':
      return new Credential.default();
    case 'external':
      return External.builder().withProcessCommand(arg).build();
  }
  throw new Error(`unknown type ${type}`);
}

async function main() {
  const [type, arg] = process.argv.slice(2);
  const p = provider(type, arg);
  const c = type === 'default' ? await p.getCredential() : await p.getCredentials();
  process.stdout.write(JSON.stringify({
    AccessKeyId: c.accessKeyId,
    AccessKeySecret: c.accessKeySecret,
    SecurityToken: c.securityToken,
    ProviderName: c.providerName,
  }));
}

main().catch((err) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
