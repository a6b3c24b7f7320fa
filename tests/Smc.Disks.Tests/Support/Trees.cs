namespace Smc.Disks.Tests.Support;

/// <summary>Compares directory trees file by file.</summary>
internal static class Trees
{
    /// <summary>Asserts that <paramref name="actual"/> holds exactly the files of <paramref name="expected"/>, byte for byte (ext's lost+found is ignored).</summary>
    public static void AssertEqual(string expected, string actual)
    {
        List<string> expectedFiles = Files(expected);
        List<string> actualFiles = Files(actual);
        Assert.Equal(expectedFiles, actualFiles);
        Assert.NotEmpty(expectedFiles);
        foreach (string file in expectedFiles)
        {
            Assert.True(
                File.ReadAllBytes(Path.Combine(expected, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(actual, file))),
                $"{file} differs between {expected} and {actual}.");
        }
    }

    private static List<string> Files(string root) =>
    [
        .. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f))
            .Where(f => !f.StartsWith("lost+found", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal),
    ];
}
