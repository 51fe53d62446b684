/** protobufjs types from trace.proto, loaded once per process: reply encoding and the reference decoder. */
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

interface Types {
  request: protobuf.Type;
  response: protobuf.Type;
  status: protobuf.Type;
}
let types: Types | undefined;

export function otlpTypes(): Types {
  if (!types) {
    const root = protobuf.loadSync(fileURLToPath(new URL('./trace.proto', import.meta.url)));
    types = {
      request: root.lookupType('opentelemetry.proto.ExportTraceServiceRequest'),
      response: root.lookupType('opentelemetry.proto.ExportTraceServiceResponse'),
      status: root.lookupType('opentelemetry.proto.RpcStatus'),
    };
  }
  return types;
}
