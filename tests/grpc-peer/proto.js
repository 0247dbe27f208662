// Loads Contracts/Protos/tools.proto from the repository, so the peer always speaks the current contract.
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const protoPath = path.join(__dirname, '..', '..', 'Contracts', 'Protos', 'tools.proto');
const definition = protoLoader.loadSync(protoPath, { longs: String, enums: String, defaults: true, oneofs: true });
const tools = grpc.loadPackageDefinition(definition).aiassistant.tools.v1;

module.exports = { grpc, tools };
