/**
 * The OTLP/gRPC receiver (TraceService/Export, OTLP's port 4317), with @grpc/grpc-js. It shares
 * everything after decoding with OTLP/HTTP through `exportTraces`, so an OK here promises what a
 * 200 promises there. Status codes follow the OTLP spec: INVALID_ARGUMENT for a body that does not
 * decode, RESOURCE_EXHAUSTED / UNAVAILABLE with a google.rpc.RetryInfo when the sender should come
 * back later, UNAUTHENTICATED (no detail) without a valid token. gzip (and deflate) requests are
 * decompressed by grpc-js; the message size limit applies to the decompressed message.
 */
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import type { TokenAuth } from './auth.ts';
import { exportTraces } from './ingest/export-traces.ts';
import type { Ingester } from './ingest/ingester.ts';
import type { ServiceMetrics } from './metrics.ts';
import { decodeProtobufRequest } from './otlp/decode-protobuf.ts';
import { encodeExportResponse } from './otlp/encode-response.ts';
import { OtlpDecodeError } from './otlp/errors.ts';

export interface GrpcReceiverOptions {
  ingester: Ingester;
  /** 4317 is OTLP/gRPC's port; 0 picks a free one. */
  port: number;
  host: string;
  /** Largest message after decompression. */
  maxMessageBytes: number;
  auth?: TokenAuth;
  metrics?: ServiceMetrics;
  log: (line: string) => void;
}

export interface GrpcReceiver {
  /** host:port it listens on. */
  address: string;
  port: number;
  close(): Promise<void>;
}

const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

// The bytes travel untouched: decoding is ours (decode-protobuf.ts), so errors become statuses.
const raw = (b: Buffer): Buffer => b;
const TRACE_SERVICE: grpc.ServiceDefinition = {
  Export: {
    path: EXPORT_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
  },
};

/** google.rpc.Status{code, message, details: [Any(google.rpc.RetryInfo{retry_delay})]}, for grpc-status-details-bin. */
function statusWithRetryInfo(code: number, message: string, retryAfterSeconds: number): Buffer {
  const duration = protobuf.Writer.create().uint32(8).int64(retryAfterSeconds).finish();
  const retryInfo = protobuf.Writer.create().uint32(10).bytes(duration).finish();
  const any = protobuf.Writer.create().uint32(10).string('type.googleapis.com/google.rpc.RetryInfo').uint32(18).bytes(retryInfo).finish();
  return Buffer.from(protobuf.Writer.create().uint32(8).int32(code).uint32(18).string(message).uint32(26).bytes(any).finish());
}

export async function startGrpcReceiver(o: GrpcReceiverOptions): Promise<GrpcReceiver> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': o.maxMessageBytes,
    'grpc.max_send_message_length': 4 * 1024 * 1024,
  });
  const fail = (callback: grpc.sendUnaryData<Buffer>, code: grpc.status, details: string, metadata?: grpc.Metadata) =>
    callback({ code, details, metadata: metadata ?? new grpc.Metadata() } as grpc.ServiceError, null);

  const handleExport = (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>): void => {
    if (o.auth?.enabled) {
      const authorization = call.metadata.get('authorization').map(String);
      const key = call.metadata.get('x-clickhouse-key').map(String);
      const ok = authorization.some((a) => o.auth!.verifyHeaders({ authorization: a })) || key.some((k) => o.auth!.verify(k));
      if (!ok) {
        o.metrics?.requestsRejected.inc({ protocol: 'grpc', reason: 'unauthenticated' });
        return fail(callback, grpc.status.UNAUTHENTICATED, 'unauthenticated');
      }
    }
    let request;
    try {
      request = decodeProtobufRequest(call.request);
    } catch (e) {
      if (!(e instanceof OtlpDecodeError)) throw e;
      o.metrics?.requestsRejected.inc({ protocol: 'grpc', reason: 'malformed' });
      return fail(callback, grpc.status.INVALID_ARGUMENT, e.message);
    }
    exportTraces(o.ingester, request, 'grpc', o.metrics).then(
      (outcome) => {
        if (outcome.kind === 'ok') return callback(null, Buffer.from(encodeExportResponse('protobuf', outcome.rejected, outcome.message)));
        const code = outcome.kind === 'unavailable' ? grpc.status.UNAVAILABLE : grpc.status.RESOURCE_EXHAUSTED;
        const md = new grpc.Metadata();
        md.set('grpc-status-details-bin', statusWithRetryInfo(code, outcome.message, outcome.retryAfterSeconds));
        fail(callback, code, outcome.message, md);
      },
      (e: unknown) => {
        o.log(`spendtrace: unexpected error on OTLP/gRPC Export: ${(e as Error)?.stack ?? e}`);
        fail(callback, grpc.status.INTERNAL, 'internal error');
      },
    );
  };
  server.addService(TRACE_SERVICE, { Export: handleExport as grpc.UntypedHandleCall });

  const host = o.host.includes(':') && !o.host.startsWith('[') ? `[${o.host}]` : o.host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${o.port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(listenError(err, o.port)) : resolve(p)));
  });
  let closing: Promise<void> | undefined;
  return {
    address: `${host}:${port}`,
    port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        // In-flight calls finish (their spans are already taken); a stuck peer is cut after 5 s.
        const force = setTimeout(() => server.forceShutdown(), 5000);
        force.unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      })),
  };
}

/** grpc-js reports a taken port as a plain Error; give it the code the CLI maps (EADDRINUSE). */
function listenError(err: Error, port: number): Error {
  if (/EADDRINUSE|address already in use/i.test(err.message))
    return Object.assign(new Error(`OTLP/gRPC port ${port} is in use`, { cause: err }), { code: 'EADDRINUSE', port });
  if (/EACCES|permission denied/i.test(err.message))
    return Object.assign(new Error(`OTLP/gRPC port ${port}: permission denied`, { cause: err }), { code: 'EACCES', port });
  return err;
}
