namespace Smc.Registry;

/// <summary>A registry login (basic, or the credentials a bearer-token endpoint takes).</summary>
public sealed record RegistryCredentials(string Username, string Password)
{
    /// <summary>Never prints the password.</summary>
    public override string ToString() => $"RegistryCredentials {{ Username = {Username} }}";
}

/// <summary>What pushes through one client did: blobs sent, found already there, mounted; bytes sent; uploads resumed.</summary>
public sealed class PushStats
{
    private int _sent, _skipped, _mounted, _resumed;
    private long _bytes;

    public int Sent => _sent;

    public int Skipped => _skipped;

    public int Mounted => _mounted;

    public int Resumed => _resumed;

    public long BytesSent => Interlocked.Read(ref _bytes);

    internal void AddSent() => Interlocked.Increment(ref _sent);

    internal void AddSkipped() => Interlocked.Increment(ref _skipped);

    internal void AddMounted() => Interlocked.Increment(ref _mounted);

    internal void AddResumed() => Interlocked.Increment(ref _resumed);

    internal void AddBytes(long n) => Interlocked.Add(ref _bytes, n);
}

/// <summary>The media types a push uses.</summary>
public static class OciMediaTypes
{
    public const string ImageManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string ImageConfig = "application/vnd.oci.image.config.v1+json";
    public const string LayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
}
