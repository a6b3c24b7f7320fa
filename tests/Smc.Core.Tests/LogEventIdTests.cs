using System.Text.RegularExpressions;

namespace Smc.Core.Tests;

/// <summary>
/// Log lines are found by their event ids (alerts, queries): each project declares its lines in its Logs.cs, inside its own
/// range, and no id is used twice. CA1848 (on in .editorconfig) keeps log calls from bypassing Logs.cs.
/// </summary>
public sealed partial class LogEventIdTests
{
    [Fact]
    public void EveryProjectsEventIds_AreInItsRange_AndUnique()
    {
        (string Project, int Low, int High)[] projects = [("functions/Smc.Core", 1000, 1999), ("functions/Smc.Api", 2000, 2999), ("functions/Smc.Control", 3000, 3999)];
        var seen = new Dictionary<int, string>();
        foreach ((string project, int low, int high) in projects)
        {
            string logs = Path.Combine(ArchitectureTests.RepoRoot(), project, "Logs.cs");
            Assert.True(File.Exists(logs), $"{project} has no Logs.cs");
            string text = File.ReadAllText(logs);
            int[] ids = [.. EventId().Matches(text).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))];
            Assert.NotEmpty(ids);
            Assert.Equal(LoggerMessage().Count(text), ids.Length); // every [LoggerMessage] names its id
            foreach (int id in ids)
            {
                Assert.InRange(id, low, high);
                Assert.False(seen.TryGetValue(id, out string? other), $"event id {id} is used by {other} and {project}");
                seen[id] = project;
            }
        }
    }

    [Fact]
    public void NoSourceFile_LogsAroundLogsCs()
    {
        string root = ArchitectureTests.RepoRoot();
        string[] offenders = [.. new[] { "functions", "agent", "lib" }
            .SelectMany(d => Directory.EnumerateFiles(Path.Combine(root, d), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(f => DirectCall().IsMatch(File.ReadAllText(f)))
            .Select(f => Path.GetRelativePath(root, f))];
        Assert.Empty(offenders);
    }

    [GeneratedRegex(@"EventId\s*=\s*(\d+)")]
    private static partial Regex EventId();

    [GeneratedRegex(@"\[LoggerMessage\(")]
    private static partial Regex LoggerMessage();

    [GeneratedRegex(@"\.Log(Trace|Debug|Information|Warning|Error|Critical)\(")]
    private static partial Regex DirectCall();
}
