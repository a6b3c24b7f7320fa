// Drives an Alibaba Cloud endpoint with Alibaba's own clients from the npm registry — ali-oss (OSS multipart upload,
// OSS4-HMAC-SHA256) and @alicloud/ecs20140526 (ImportImage, DescribeImages, DeleteImage; ACS3-HMAC-SHA256 and the RPC
// HMAC-SHA1 scheme) — so the in-repo emulator is checked by clients it shares no code or reading with.
// Usage: node official-alibaba-clients.mjs ENDPOINT ACCESS_KEY_ID SECRET BUCKET REGION FILE
// Prints one JSON line per step; exits 1 with {"error":…} on the first failure.
import OSS from 'ali-oss';
import EcsModule from '@alicloud/ecs20140526';
import OpenApi from '@alicloud/openapi-client';
import fs from 'node:fs';

const [endpoint, keyId, secret, bucket, region, file] = process.argv.slice(2);
const host = new URL(endpoint).host;
const Ecs = EcsModule.default ? EcsModule : { default: EcsModule };
const say = (o) => console.log(JSON.stringify(o));

function ecs(signatureAlgorithm) {
  const config = new OpenApi.Config({ accessKeyId: keyId, accessKeySecret: secret, endpoint: host, protocol: 'http', regionId: region });
  if (signatureAlgorithm) config.signatureAlgorithm = signatureAlgorithm;
  return new Ecs.default(config);
}

try {
  // OSS: multipart upload in 100 KiB parts (OSS's smallest), path-style, V4 signatures.
  const oss = new OSS({ accessKeyId: keyId, accessKeySecret: secret, region: `oss-${region}`, bucket, endpoint, sldEnable: true, authorizationV4: true, secure: false });
  const key = 'official/disk.raw';
  const up = await oss.multipartUpload(key, file, { partSize: 100 * 1024, parallel: 2 });
  say({ step: 'multipartUpload', status: up.res.status, key });

  // ECS with the SDK's default signature (V3, ACS3-HMAC-SHA256).
  const v3 = ecs();
  const size = Math.max(1, Math.ceil(fs.statSync(file).size / 2 ** 30));
  const imported = await v3.importImage(new Ecs.ImportImageRequest({
    regionId: region, imageName: 'official-client-image', OSType: 'linux', platform: 'Others Linux', architecture: 'x86_64',
    diskDeviceMapping: [new Ecs.ImportImageRequestDiskDeviceMapping({ OSSBucket: bucket, OSSObject: key, format: 'RAW', diskImageSize: size })],
    tag: [new Ecs.ImportImageRequestTag({ key: 'env', value: 'prod' }), new Ecs.ImportImageRequestTag({ key: 'team', value: 'db' })],
  }));
  const imageId = imported.body.imageId;
  say({ step: 'importImage', imageId, taskId: imported.body.taskId });

  // The same API with the older RPC signature (HMAC-SHA1), polled until the import ends.
  const v2 = ecs('v2');
  let status = '';
  for (let i = 0; i < 20 && status !== 'Available' && status !== 'CreateFailed'; i++) {
    const d = await v2.describeImages(new Ecs.DescribeImagesRequest({ regionId: region, imageId, status: 'Creating,Waiting,Available,UnAvailable,CreateFailed' }));
    status = d.body.images.image[0]?.status ?? '';
    const tags = (d.body.images.image[0]?.tags?.tag ?? []).map(t => `${t.tagKey}=${t.tagValue}`);
    say({ step: 'describeImages', status, tags });
  }

  await v3.deleteImage(new Ecs.DeleteImageRequest({ regionId: region, imageId }));
  const after = await v2.describeImages(new Ecs.DescribeImagesRequest({ regionId: region, imageId, status: 'Creating,Waiting,Available,UnAvailable,CreateFailed' }));
  say({ step: 'deleteImage', remaining: after.body.totalCount });
} catch (e) {
  say({ error: e.code ?? e.name, status: e.status ?? e.statusCode, message: String(e.message).slice(0, 500) });
  process.exit(1);
}
