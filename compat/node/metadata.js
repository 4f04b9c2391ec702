'use strict';
// Reads credentials with the unmodified @alicloud/credentials client and
// prints them as one JSON object on stdout, for compat/metadata_test.go.
//
//   node metadata.js ecs_ram_role [ROLE]   ECS RAM role from 100.100.100.200 (no ROLE: discover it)
//   node metadata.js credentials_uri URL   the credentials URI provider
//   node metadata.js default               the default chain, as the environment sets it up
//
// Errors go to stderr with exit status 1.
const Credential = require('@alicloud/credentials');

function client(type, arg) {
  switch (type) {
    case 'ecs_ram_role':
      return new Credential.default(new Credential.Config({ type, roleName: arg || undefined }));
    case 'credentials_uri':
      return new Credential.default(new Credential.Config({ type, credentialsURI: arg }));
    case 'default':
      return new Credential.default();
  }
  throw new Error(`unknown type ${type}`);
}

async function main() {
  const [type, arg] = process.argv.slice(2);
  const c = await client(type, arg).getCredential();
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
