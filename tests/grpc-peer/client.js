// A real gRPC client (grpc-js) that calls a server at <address> (host:port, plaintext), runs the given cases
// (all when none is given) concurrently, and prints one JSON object keyed by case:
// {"<case>": {"code": <grpc status number>, "codeName": "...", "details": "...", "reply": {...} | null}, ...}
// Usage: node client.js <host:port> [ok|permission|secret|deadline|unimplemented|unknown-service ...]
const { grpc, tools } = require('./proto');

const [address, ...requested] = process.argv.slice(2);
if (!address) {
  console.error('usage: node client.js <host:port> [case ...]');
  process.exit(2);
}

const client = new tools.Tools(address, grpc.credentials.createInsecure());
const caller = { userId: 'user-1', roleId: 'role-1', admin: false, app: true };

function metadata() {
  const md = new grpc.Metadata();
  md.set('authorization', 'Bearer node-token');
  return md;
}

// Generous failure bound only; the deadline case sets its own short deadline.
const deadline = () => new Date(Date.now() + 20000);

const cases = {
  ok: (cb) => client.ExecuteTool({ caller, name: 'echo', inputJson: '{"q":"grüße"}' }, metadata(), { deadline: deadline() }, cb),
  permission: (cb) => client.ExecuteTool({ caller, name: 'deny' }, metadata(), { deadline: deadline() }, cb),
  secret: (cb) => client.ExecuteTool({ caller, name: 'throw' }, metadata(), { deadline: deadline() }, cb),
  deadline: (cb) => client.ExecuteTool({ caller, name: 'hang' }, metadata(), { deadline: new Date(Date.now() + 300) }, cb),
  // ListTools exists in the contract, but the C# test server does not map it.
  unimplemented: (cb) => client.ListTools({ caller }, metadata(), { deadline: deadline() }, cb),
  'unknown-service': (cb) => client.makeUnaryRequest('/aiassistant.nope.v1.Nope/Nothing',
    (arg) => arg, (buf) => buf, Buffer.alloc(0), metadata(), { deadline: deadline() }, cb),
};

function run(name) {
  return new Promise((resolve) => cases[name]((err, reply) => {
    const code = err ? err.code : grpc.status.OK;
    resolve([name, {
      code,
      codeName: grpc.status[code],
      details: err ? err.details : '',
      reply: err ? null : (Buffer.isBuffer(reply) ? reply.toString('base64') : reply),
    }]);
  }));
}

const names = requested.length > 0 ? requested : Object.keys(cases);
const unknown = names.filter((name) => !cases[name]);
if (unknown.length > 0) {
  console.error(`unknown case(s): ${unknown.join(', ')}`);
  process.exit(2);
}

Promise.all(names.map(run)).then((results) => {
  console.log(JSON.stringify(Object.fromEntries(results)));
  client.close();
});
