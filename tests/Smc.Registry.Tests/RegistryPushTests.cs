using System.Formats.Tar;
using System.Text;
using System.Text.Json.Nodes;

namespace Smc.Registry.Tests;

/// <summary>
/// The push client against a real registry (Debian's docker-registry) and an independent client (skopeo) that reads
/// back what was pushed: anonymous and basic auth, HEAD-skip and cross-repository mount, a registry crash mid-upload.
/// </summary>
public sealed class RegistryPushTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("smc-registry-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Push_Anonymous_SkopeoSeesTheConfigAndCopiesTheSameLayer()
    {
        await using DockerRegistry registry = await DockerRegistry.StartAsync();
        var client = new RegistryClient(new HttpClient(), registry.Url);
        (byte[] layer, OciLayer described) = await LayerAsync(("etc/motd", "hello\n"u8.ToArray(), UnixFileMode.UserRead | UnixFileMode.UserWrite), ("usr/bin/app", "#!/bin/sh\necho hi\n"u8.ToArray(), (UnixFileMode)0b111_101_101));
        string manifestDigest = await PushImageAsync(client, "team/app", "v1", layer, described, new OciRuntime(Entrypoint: ["/usr/bin/app"], Env: ["MODE=prod"], ExposedPorts: ["8080"], Labels: new Dictionary<string, string> { ["env"] = "prod" }));

        JsonNode inspect = JsonNode.Parse(DockerRegistry.Run("skopeo", "inspect", "--tls-verify=false", $"docker://{registry.Host}/team/app:v1"))!;
        Assert.Equal("amd64", inspect["Architecture"]!.GetValue<string>());
        Assert.Equal("linux", inspect["Os"]!.GetValue<string>());
        Assert.Equal(manifestDigest, inspect["Digest"]!.GetValue<string>());
        JsonNode config = JsonNode.Parse(DockerRegistry.Run("skopeo", "inspect", "--config", "--tls-verify=false", $"docker://{registry.Host}/team/app:v1"))!;
        Assert.Equal("/usr/bin/app", config["config"]!["Entrypoint"]![0]!.GetValue<string>());
        Assert.NotNull(config["config"]!["ExposedPorts"]!["8080/tcp"]);
        Assert.Equal("prod", config["config"]!["Labels"]!["env"]!.GetValue<string>());
        Assert.Equal(described.DiffId, config["rootfs"]!["diff_ids"]![0]!.GetValue<string>());

        string copy = Path.Combine(_dir, "copy");
        DockerRegistry.Run("skopeo", "--insecure-policy", "copy", "--src-tls-verify=false", $"docker://{registry.Host}/team/app:v1", $"dir:{copy}");
        Assert.Equal(layer, File.ReadAllBytes(Path.Combine(copy, described.Blob.Digest["sha256:".Length..])));
        Assert.Equal(2, client.Stats.Sent); // layer and config (the manifest is not a blob)
    }

    [Fact]
    public async Task SecondPush_SkipsBlobsTheRepositoryHas_AndMountsThoseAnotherRepositoryHas()
    {
        await using DockerRegistry registry = await DockerRegistry.StartAsync();
        var client = new RegistryClient(new HttpClient(), registry.Url);
        (byte[] layer, OciLayer described) = await LayerAsync(("data.bin", RandomBytes(3 << 20, 1), UnixFileMode.UserRead));
        await PushImageAsync(client, "one/app", "v1", layer, described, new OciRuntime());
        int sent = client.Stats.Sent;

        await PushImageAsync(client, "one/app", "v2", layer, described, new OciRuntime(Cmd: ["sh"]));
        Assert.Equal(sent + 1, client.Stats.Sent); // only the new config
        Assert.True(client.Stats.Skipped >= 1);

        Assert.True(await client.MountAsync("two/app", described.Blob.Digest, "one/app"));
        Assert.True(await client.BlobExistsAsync("two/app", described.Blob.Digest));
        Assert.False(await client.MountAsync("two/app", RegistryClient.DigestOf("absent"u8), "one/app"));
    }

    [Fact]
    public async Task BasicAuth_WrongPasswordIsUnauthorized_TheRightOnePushes()
    {
        await using DockerRegistry registry = await DockerRegistry.StartAsync(("smc", "s3cret-pass"));
        (byte[] layer, OciLayer described) = await LayerAsync(("a.txt", "a"u8.ToArray(), UnixFileMode.UserRead));

        var anonymous = new RegistryClient(new HttpClient(), registry.Url);
        RegistryException none = await Assert.ThrowsAsync<RegistryException>(() => anonymous.BlobExistsAsync("app", described.Blob.Digest));
        Assert.Equal("UNAUTHORIZED", none.Code);
        Assert.True(none.UserError);

        var wrong = new RegistryClient(new HttpClient(), registry.Url, new RegistryCredentials("smc", "nope"));
        RegistryException refused = await Assert.ThrowsAsync<RegistryException>(() => PushImageAsync(wrong, "app", "v1", layer, described, new OciRuntime()));
        Assert.Equal("UNAUTHORIZED", refused.Code);
        Assert.DoesNotContain("nope", refused.Message, StringComparison.Ordinal);

        var right = new RegistryClient(new HttpClient(), registry.Url, new RegistryCredentials("smc", "s3cret-pass"));
        await PushImageAsync(right, "app", "v1", layer, described, new OciRuntime());
        JsonNode inspect = JsonNode.Parse(DockerRegistry.Run("skopeo", "inspect", "--tls-verify=false", "--creds", "smc:s3cret-pass", $"docker://{registry.Host}/app:v1"))!;
        Assert.Equal(described.Blob.Digest, inspect["Layers"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task BearerChallenge_TokenFromTheRealmForTheScope_PushesAndRefusesAWrongLogin()
    {
        using var tokens = new TokenServer(("robot", "t0ken-pass"));
        await using DockerRegistry registry = await DockerRegistry.StartAsync(token: (tokens.Realm, tokens.CertificatePem));
        (byte[] layer, OciLayer described) = await LayerAsync(("b.txt", "b"u8.ToArray(), UnixFileMode.UserRead));

        var wrong = new RegistryClient(new HttpClient(), registry.Url, new RegistryCredentials("robot", "nope"));
        RegistryException refused = await Assert.ThrowsAsync<RegistryException>(() => wrong.BlobExistsAsync("team/app", described.Blob.Digest));
        Assert.Equal("UNAUTHORIZED", refused.Code);

        var client = new RegistryClient(new HttpClient(), registry.Url, new RegistryCredentials("robot", "t0ken-pass"));
        string digest = await PushImageAsync(client, "team/app", "v1", layer, described, new OciRuntime(Cmd: ["/bin/sh"]));
        Assert.True(tokens.Issued is >= 1 and <= 3, $"{tokens.Issued} tokens for one repository: the token is cached per scope");
        (string MediaType, byte[] Body)? back = await client.GetManifestAsync("team/app", "v1");
        Assert.Equal(digest, RegistryClient.DigestOf(back!.Value.Body));
    }

    [Fact]
    public async Task RegistryCrashMidUpload_TheUploadResumesFromTheRangeTheRegistryKept()
    {
        await using DockerRegistry registry = await DockerRegistry.StartAsync();
        var client = new RegistryClient(new HttpClient(), registry.Url, firstDelay: TimeSpan.FromMilliseconds(100));
        const int Chunk = 1 << 20;
        byte[] blob = RandomBytes(6 * Chunk, 2);
        string digest = RegistryClient.DigestOf(blob);
        Task? restarted = null;
        await client.PushBlobAsync("big/app", digest, blob.Length, (offset, buffer, _) =>
        {
            if (offset == 3 * Chunk && restarted is null)
            {
                restarted = registry.CrashAndRestartAsync(); // the registry dies with 3 chunks stored
            }

            int n = (int)Math.Min(buffer.Length, blob.Length - offset);
            blob.AsMemory((int)offset, n).CopyTo(buffer);
            return ValueTask.FromResult(n);
        }, Chunk);
        await restarted!;

        Assert.True(client.Stats.Resumed >= 1);
        Assert.True(client.Stats.BytesSent <= blob.Length + Chunk, $"{client.Stats.BytesSent} bytes sent for {blob.Length}: the upload started over");
        Assert.True(await client.BlobExistsAsync("big/app", digest));
        using var http = new HttpClient();
        Assert.Equal(blob, await http.GetByteArrayAsync(new Uri(registry.Url, $"/v2/big/app/blobs/{digest}")));
    }

    [Fact]
    public async Task LayerCompressedWhileItIsPushed_SurvivesARegistryCrash_AndIsTheSameGzipAsCompressedAtOnce()
    {
        await using DockerRegistry registry = await DockerRegistry.StartAsync();
        var client = new RegistryClient(new HttpClient(), registry.Url, firstDelay: TimeSpan.FromMilliseconds(100));
        byte[] tar = await TarOfAsync(("srv/random.bin", RandomBytes(6 << 20, 3)), ("srv/zeros.bin", new byte[4 << 20]));
        using var expected = new MemoryStream();
        OciLayer atOnce = await OciImage.GzipLayerAsync(new MemoryStream(tar), expected);

        int opened = 0;
        Task? restarted = null;
        string? diffId = null;
        (string digest, long size) = await client.PushStreamAsync("stream/app", ct =>
        {
            var reader = new GzipLayerStream(new MemoryStream(tar));
            _ = reader.DiffId.ContinueWith(t => diffId = t.IsCompletedSuccessfully ? t.Result : null, TaskScheduler.Default);
            // On the first pass the registry dies once 3 chunks were read (2 sent, the third on its way).
            Stream stream = ++opened == 1 ? new CallbackAt(reader, 3 << 20, () => restarted = registry.CrashAndRestartAsync()) : reader;
            return Task.FromResult(stream);
        }, chunkSize: 1 << 20);
        await restarted!;

        Assert.Equal(atOnce.Blob.Digest, digest);
        Assert.Equal(atOnce.Blob.Size, size);
        Assert.True(client.Stats.Resumed >= 1 && opened >= 2, $"resumed {client.Stats.Resumed}, opened {opened}");
        Assert.True(client.Stats.BytesSent < size + (2L << 20), $"{client.Stats.BytesSent} bytes sent for a {size}-byte layer");
        using var http = new HttpClient();
        Assert.Equal(expected.ToArray(), await http.GetByteArrayAsync(new Uri(registry.Url, $"/v2/stream/app/blobs/{digest}")));
        Assert.Equal(atOnce.DiffId, diffId);
    }

    /// <summary>Reads through, calling back once when the reads pass a position.</summary>
    private sealed class CallbackAt(Stream inner, long at, Action callback) : Stream
    {
        private long _position;
        private bool _called;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int n = await inner.ReadAsync(buffer, cancellationToken);
            _position += n;
            if (!_called && _position >= at)
            {
                _called = true;
                callback();
            }

            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            await base.DisposeAsync();
        }
    }

    private static async Task<byte[]> TarOfAsync(params (string Path, byte[] Content)[] files)
    {
        using var tar = new MemoryStream();
        await using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach ((string path, byte[] content) in files)
            {
                await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, path) { Mode = UnixFileMode.UserRead, DataStream = new MemoryStream(content), ModificationTime = DateTimeOffset.UnixEpoch });
            }
        }

        return tar.ToArray();
    }

    private static async Task<string> PushImageAsync(RegistryClient client, string repository, string tag, byte[] layer, OciLayer described, OciRuntime runtime)
    {
        await client.PushBlobAsync(repository, described.Blob.Digest, layer.Length, (offset, buffer, _) =>
        {
            int n = (int)Math.Min(buffer.Length, layer.Length - offset);
            layer.AsMemory((int)offset, n).CopyTo(buffer);
            return ValueTask.FromResult(n);
        });
        byte[] config = OciImage.Config("amd64", "linux", runtime, [described.DiffId], [new OciHistory(DateTimeOffset.UnixEpoch, "smc-serverless round 0")]);
        string configDigest = await client.PushBlobAsync(repository, config);
        byte[] manifest = OciImage.Manifest(new OciBlob(OciMediaTypes.ImageConfig, configDigest, config.Length), [described.Blob]);
        return await client.PutManifestAsync(repository, tag, OciMediaTypes.ImageManifest, manifest);
    }

    private static async Task<(byte[] Gzip, OciLayer Layer)> LayerAsync(params (string Path, byte[] Content, UnixFileMode Mode)[] files)
    {
        using var tar = new MemoryStream();
        await using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach ((string path, byte[] content, UnixFileMode mode) in files)
            {
                await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, path) { Mode = mode, DataStream = new MemoryStream(content), ModificationTime = DateTimeOffset.UnixEpoch });
            }
        }

        tar.Position = 0;
        using var gz = new MemoryStream();
        OciLayer layer = await OciImage.GzipLayerAsync(tar, gz);
        return (gz.ToArray(), layer);
    }

    private static byte[] RandomBytes(int n, int seed)
    {
        byte[] bytes = new byte[n];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
