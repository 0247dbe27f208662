// A real gRPC server (grpc-js) for aiassistant.tools.v1.Tools. Prints its port on stdout once listening.
// ExecuteTool behaviours by tool name:
//   "fail-permission" -> PERMISSION_DENIED with a non-ASCII, multi-line message (tests grpc-message percent-encoding)
//   "slow"            -> answers after 5 s (tests client deadlines)
//   anything else     -> echoes the request and the metadata it received
const { grpc, tools } = require('./proto');

const PERMISSION_MESSAGE = 'Zugriff verweigert für „articles“ ✓\nzweite Zeile 100%';

function first(metadata, key) {
  const values = metadata.get(key);
  return values.length > 0 ? String(values[0]) : null;
}

function echo(call) {
  const r = call.request;
  return {
    outputJson: JSON.stringify({
      name: r.name,
      inputJson: r.inputJson,
      caller: r.caller,
      authorization: first(call.metadata, 'authorization'),
      traceparent: first(call.metadata, 'traceparent'),
    }),
    isError: false,
  };
}

const server = new grpc.Server();
server.addService(tools.Tools.service, {
  ListTools(call, callback) {
    const names = call.request.names.length > 0 ? call.request.names : ['read-items'];
    callback(null, { tools: names.map((name) => ({ name, description: `tool ${name}`, inputSchemaJson: '{}', readOnly: true })) });
  },
  ExecuteTool(call, callback) {
    switch (call.request.name) {
      case 'fail-permission':
        callback({ code: grpc.status.PERMISSION_DENIED, details: PERMISSION_MESSAGE });
        return;
      case 'slow': {
        const timer = setTimeout(() => callback(null, echo(call)), 5000);
        call.on('cancelled', () => clearTimeout(timer));
        return;
      }
      default:
        callback(null, echo(call));
    }
  },
});

server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    console.error(err);
    process.exit(1);
  }
  console.log(port);
});

// The test harness closes stdin when it is done with us.
process.stdin.on('end', () => server.forceShutdown());
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
