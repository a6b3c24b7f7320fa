// Drives the SMC-compatible API with Alibaba's own generic callers from the npm registry — the ones SMC's SDKs are
// built on: @alicloud/openapi-client (ACS3-HMAC-SHA256) and @alicloud/pop-core (RPC, HMAC-SHA1) — so the façade is
// checked by clients that share no code or reading with it. A job is created, started, polled until its first image,
// cut over and polled until Finished, with SMC's action names and parameters; then the refusals: a wrong secret, an
// unknown key, a replayed request and a skewed clock.
// Usage: node smc-compat-clients.mjs BASE_URL ACCESS_KEY_ID SECRET SOURCE_ID
// Prints one JSON line per step; exits 1 with {"error":…} on an unexpected failure.
import OpenApi from '@alicloud/openapi-client';
import Util from '@alicloud/tea-util';
import RPCClient from '@alicloud/pop-core';
import http from 'node:http';

const [base, keyId, secret, sourceId] = process.argv.slice(2);
const url = new URL(base);
const say = (o) => console.log(JSON.stringify(o));
const VERSION = '2019-06-01';

// V3: the generic caller with SMC's RPC style, at the façade's path.
function v3(id = keyId, key = secret) {
  return new OpenApi.default(new OpenApi.Config({ accessKeyId: id, accessKeySecret: key, endpoint: url.host, protocol: 'http' }));
}
async function callV3(action, query, client = v3()) {
  const params = new OpenApi.Params({ action, version: VERSION, protocol: 'HTTP', pathname: '/smc/', method: 'POST', authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json' });
  const response = await client.callApi(params, new OpenApi.OpenApiRequest({ query }), new Util.RuntimeOptions({}));
  return response.body;
}

// RPC (HMAC-SHA1): pop-core, through a recorder that keeps the last URL sent (to replay it byte for byte).
let lastUrl = '';
const recorder = http.createServer((req, res) => {
  lastUrl = req.url;
  const forward = http.request({ host: url.hostname, port: url.port, path: req.url, method: req.method, headers: { ...req.headers, host: url.host } }, (answer) => {
    res.writeHead(answer.statusCode, answer.headers);
    answer.pipe(res);
  });
  req.pipe(forward);
});
await new Promise((resolve) => recorder.listen(0, '127.0.0.1', resolve));
const rpcBase = `http://127.0.0.1:${recorder.address().port}/smc`;
const v2 = (key = secret) => new RPCClient({ accessKeyId: keyId, accessKeySecret: key, endpoint: rpcBase, apiVersion: VERSION });
const refused = async (step, call) => {
  try {
    await call();
    say({ step, refused: false });
  } catch (e) {
    say({ step, refused: true, code: e.code ?? e.data?.Code, status: e.statusCode ?? e.data?.statusCode });
  }
};

async function poll(jobId, done, rounds = 240) {
  for (let i = 0; i < rounds; i++) {
    // Alternate the two schemes: both must read the same job.
    const body = i % 2 === 0 ? await callV3('DescribeReplicationJobs', { 'JobId.1': jobId, PageSize: 10 }) : await v2().request('DescribeReplicationJobs', { 'JobId.1': jobId });
    const job = body.ReplicationJobs.ReplicationJob[0];
    if (done(job)) return { body, job };
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`job ${jobId} did not get there`);
}

try {
  const created = await callV3('CreateReplicationJob', {
    SourceId: sourceId, Name: 'smc-compat', RunOnce: 'false', Frequency: 24, MaxNumberOfImageToKeep: 2,
    ReplicationParameters: JSON.stringify({ bandwidth_limit: 0, compress_level: 1, checksum: true }),
    'Tag.1.Key': 'owner', 'Tag.1.Value': 'sdk',
  });
  say({ step: 'create', jobId: created.JobId, requestId: created.RequestId });

  const started = await v2().request('StartReplicationJob', { JobId: created.JobId }, { method: 'POST' });
  say({ step: 'start', requestId: started.RequestId });

  const first = await poll(created.JobId, (j) => j.Status === 'Waiting' || j.Status === 'InError');
  say({ step: 'waiting', status: first.job.Status, imageId: first.job.ImageId, frequency: first.job.Frequency, runs: first.job.ReplicationJobRuns.ReplicationJobRun.length, tags: first.job.Tags.Tag, totalCount: first.body.TotalCount });

  await callV3('CutOverReplicationJob', { JobId: created.JobId, SyncData: 'false' });
  const finished = await poll(created.JobId, (j) => j.Status === 'Finished' || j.Status === 'InError');
  say({ step: 'finished', status: finished.job.Status, imageId: finished.job.ImageId, progress: finished.job.Progress, endTime: finished.job.EndTime });

  const sources = await v2().request('DescribeSourceServers', { 'SourceId.1': sourceId });
  say({ step: 'sources', totalCount: sources.TotalCount, state: sources.SourceServers.SourceServer[0]?.State, pageSize: sources.PageSize });

  const page = await callV3('DescribeReplicationJobs', { PageNumber: 2, PageSize: 1 });
  say({ step: 'paging', totalCount: page.TotalCount, pageNumber: page.PageNumber, pageSize: page.PageSize, shown: page.ReplicationJobs.ReplicationJob.length });

  // The refusals, each with SMC's code.
  await refused('wrongSecretV3', () => callV3('DescribeSourceServers', {}, v3(keyId, secret + 'x')));
  await refused('wrongSecretV2', () => v2(secret + 'x').request('DescribeSourceServers', {}));
  await refused('unknownKey', () => callV3('DescribeSourceServers', {}, v3('SMCKAAAAAAAAAAAAAAAAAAAA', secret)));
  await v2().request('DescribeSourceServers', { 'SourceId.1': sourceId });
  const replay = await fetch(`http://${url.host}${lastUrl}`);
  say({ step: 'replay', status: replay.status, code: (await replay.json()).Code });
  const RealDate = Date;
  globalThis.Date = class extends RealDate {
    constructor(...a) { if (a.length) super(...a); else super(RealDate.now() - 20 * 60 * 1000); }
    static now() { return RealDate.now() - 20 * 60 * 1000; }
  };
  await refused('skewedClock', () => v2().request('DescribeSourceServers', {}));
  globalThis.Date = RealDate;
  await refused('unknownAction', () => callV3('DescribeWorkgroups', {}));
} catch (e) {
  say({ error: e.code ?? e.name, status: e.statusCode, message: String(e.message).slice(0, 500) });
  process.exitCode = 1;
} finally {
  recorder.close();
}
