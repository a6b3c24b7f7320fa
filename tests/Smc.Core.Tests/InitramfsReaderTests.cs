using Smc.Boot;

namespace Smc.Core.Tests;

/// <summary>
/// Initramfs images packed by the real cpio (newc) and compressed by the real gzip and zstd, as distributions ship them:
/// every name read back; and seeded mutations of the packed bytes end only in names or an <see cref="InvalidDataException"/>,
/// within a time limit (no other exception, no hang).
/// </summary>
public sealed class InitramfsReaderTests : IDisposable
{
    private readonly TempDir _dir = new("initramfs");

    [Theory]
    [InlineData("gzip", ".gz")]
    [InlineData("zstd", ".zst")]
    public async Task PackedByTheRealTools_EveryNameReadBack_AndMutationsOnlyRefused(string compressor, string suffix)
    {
        string tree = Path.Combine(_dir.Path, "tree");
        var expected = new List<string>();
        for (int i = 0; i < 60; i++)
        {
            string dir = Path.Combine(tree, $"usr/lib/modules/6.1.0/kernel/d{i % 7}");
            Directory.CreateDirectory(dir);
            File.WriteAllBytes(Path.Combine(dir, $"m{i}.ko"), new byte[(i * 331) % 5000]);
        }

        expected.AddRange(Directory.EnumerateFileSystemEntries(tree, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(tree, p)));
        string cpio = Path.Combine(_dir.Path, "main.cpio");
        File.WriteAllBytes(cpio, BootSample.Cpio(tree));
        Tool.Run(compressor, "-q", "-f", cpio);
        byte[] packed = File.ReadAllBytes(cpio + suffix);

        (List<string> names, string? unreadable) = InitramfsReader.ListNames(packed);
        Assert.Null(unreadable);
        Assert.Equal(expected.Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal));

        var random = new Random(compressor.Length * 7919);
        int read = 0, refused = 0;
        await Task.Run(() =>
        {
            for (int i = 0; i < 600; i++)
            {
                byte[] mutated = (byte[])packed.Clone();
                for (int k = random.Next(1, 6); k > 0; k--)
                {
                    mutated[random.Next(mutated.Length)] = (byte)random.Next(256);
                }

                try
                {
                    InitramfsReader.ListNames(mutated);
                    read++;
                }
                catch (InvalidDataException)
                {
                    refused++;
                }
            }
        }).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(refused > 50, $"{read} read, {refused} refused");
    }

    public void Dispose() => _dir.Dispose();
}
