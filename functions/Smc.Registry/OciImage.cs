using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Smc.Registry;

/// <summary>A content-addressed blob as a manifest names it.</summary>
public sealed record OciBlob(string MediaType, string Digest, long Size);

/// <summary>A gzip-compressed layer: its blob, and the digest of the uncompressed tar (the config's <c>diff_id</c>).</summary>
public sealed record OciLayer(OciBlob Blob, string DiffId);

/// <summary>What the image's config says about running it (OCI image config <c>config</c>), from the job.</summary>
public sealed record OciRuntime(
    IReadOnlyList<string>? Entrypoint = null,
    IReadOnlyList<string>? Cmd = null,
    IReadOnlyList<string>? Env = null,
    string? WorkingDir = null,
    IReadOnlyList<string>? ExposedPorts = null,
    IReadOnlyDictionary<string, string>? Labels = null);

/// <summary>One entry of the config's history: when and what made a layer.</summary>
public sealed record OciHistory(DateTimeOffset Created, string CreatedBy, string? Comment = null);

/// <summary>Builds the pieces of an OCI image (image-spec v1.1): gzip layers with both digests, the config, the manifest.</summary>
public static class OciImage
{
    /// <summary>Compresses a tar stream into <paramref name="destination"/> while hashing the tar (diff_id) and the gzip (digest).</summary>
    public static async Task<OciLayer> GzipLayerAsync(Stream tar, Stream destination, CompressionLevel level = CompressionLevel.Optimal, CancellationToken cancellationToken = default)
    {
        using var diff = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var compressed = new HashingStream(destination);
        await using (var gzip = new GZipStream(compressed, level, leaveOpen: true))
        {
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = await tar.ReadAsync(buffer, cancellationToken)) > 0)
            {
                diff.AppendData(buffer, 0, n);
                await gzip.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
            }
        }

        return new OciLayer(new OciBlob(OciMediaTypes.LayerGzip, compressed.Digest(), compressed.Length), "sha256:" + Convert.ToHexStringLower(diff.GetHashAndReset()));
    }

    /// <summary>OCI architecture names from the kernel's (<c>uname -m</c>): x86_64 → amd64, aarch64 → arm64.</summary>
    public static string Architecture(string? machine) => machine?.ToLowerInvariant() switch
    {
        "aarch64" or "arm64" => "arm64",
        "i386" or "i686" or "x86" => "386",
        "armv7l" or "arm" => "arm",
        "ppc64le" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        _ => "amd64",
    };

    /// <summary>The image config: platform, how to run it, the layers' diff_ids in order, their history.</summary>
    public static byte[] Config(string architecture, string os, OciRuntime runtime, IReadOnlyList<string> diffIds, IReadOnlyList<OciHistory> history)
    {
        var config = new JsonObject();
        if (runtime.Entrypoint is { Count: > 0 } entrypoint)
        {
            config["Entrypoint"] = Array(entrypoint);
        }

        if (runtime.Cmd is { Count: > 0 } cmd)
        {
            config["Cmd"] = Array(cmd);
        }

        if (runtime.Env is { Count: > 0 } env)
        {
            config["Env"] = Array(env);
        }

        if (!string.IsNullOrEmpty(runtime.WorkingDir))
        {
            config["WorkingDir"] = runtime.WorkingDir;
        }

        if (runtime.ExposedPorts is { Count: > 0 } ports)
        {
            var exposed = new JsonObject();
            foreach (string port in ports)
            {
                exposed[port.Contains('/', StringComparison.Ordinal) ? port : port + "/tcp"] = new JsonObject();
            }

            config["ExposedPorts"] = exposed;
        }

        if (runtime.Labels is { Count: > 0 } labels)
        {
            var map = new JsonObject();
            foreach ((string key, string value) in labels.OrderBy(l => l.Key, StringComparer.Ordinal))
            {
                map[key] = value;
            }

            config["Labels"] = map;
        }

        var root = new JsonObject
        {
            ["created"] = Time(history.Count > 0 ? history[^1].Created : DateTimeOffset.UnixEpoch),
            ["architecture"] = architecture,
            ["os"] = os,
            ["config"] = config,
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = Array(diffIds) },
            ["history"] = new JsonArray([.. history.Select(h =>
            {
                var entry = new JsonObject { ["created"] = Time(h.Created), ["created_by"] = h.CreatedBy };
                if (h.Comment is not null)
                {
                    entry["comment"] = h.Comment;
                }

                return (JsonNode)entry;
            })]),
        };
        return JsonSerializer.SerializeToUtf8Bytes(root);
    }

    public static byte[] Manifest(OciBlob config, IReadOnlyList<OciBlob> layers, IReadOnlyDictionary<string, string>? annotations = null)
    {
        var root = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = OciMediaTypes.ImageManifest,
            ["config"] = Descriptor(config),
            ["layers"] = new JsonArray([.. layers.Select(l => (JsonNode)Descriptor(l))]),
        };
        if (annotations is { Count: > 0 })
        {
            var a = new JsonObject();
            foreach ((string key, string value) in annotations.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                a[key] = value;
            }

            root["annotations"] = a;
        }

        return JsonSerializer.SerializeToUtf8Bytes(root);
    }

    private static JsonObject Descriptor(OciBlob blob) => new() { ["mediaType"] = blob.MediaType, ["digest"] = blob.Digest, ["size"] = blob.Size };

    private static JsonArray Array(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode)JsonValue.Create(v))]);

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A write-only pass-through that hashes and counts what goes to the inner stream.</summary>
    private sealed class HashingStream(Stream inner) : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _length;

        public override long Position { get => _length; set => throw new NotSupportedException(); }

        private long _length;

        public string Digest() => "sha256:" + Convert.ToHexStringLower(_hash.GetHashAndReset());

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _hash.AppendData(buffer);
            _length += buffer.Length;
            inner.Write(buffer);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _hash.AppendData(buffer.Span);
            _length += buffer.Length;
            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _hash.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
