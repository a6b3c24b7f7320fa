using Xunit.Abstractions;

namespace Smc.Integration.Tests;

/// <summary>
/// Starts the longest test classes first. Two classes run at a time (<c>AssemblyInfo.cs</c>) and xUnit starts them in the
/// orderer's order, so a long class that happens to start last keeps one thread busy while the other idles: the suite's
/// wall time is at least its start plus its length. Longest-first is the usual cure (LPT scheduling). The weights are
/// each class's test seconds measured on this machine (<c>scripts/test.sh</c>, December 2026); a class not listed weighs
/// nothing and runs after the listed ones, in name order. Order only: no test depends on it.
/// </summary>
public sealed class LongestFirst : ITestCollectionOrderer
{
    private static readonly Dictionary<string, int> Seconds = new(StringComparer.Ordinal)
    {
        ["BootTestTests"] = 420,
        ["AlibabaExportTests"] = 190,
        ["DurabilityTests"] = 150,
        ["IncrementalTests"] = 145,
        ["StorageRestartTests"] = 130,
        ["ContainerCaptureTests"] = 125,
        ["JobTests"] = 115,
        ["StagingSecurityTests"] = 90,
        ["AgentCrashTests"] = 40,
        ["RoundHistoryTests"] = 37,
        ["LayoutMigrationTests"] = 31,
        ["RegistrationTests"] = 30,
        ["DashboardTests"] = 28,
        ["OperatorKeyTests"] = 23,
        ["SecurityTests"] = 22,
        ["FuzzTests"] = 20,
    };

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections.OrderByDescending(c => Seconds.GetValueOrDefault(ClassName(c))).ThenBy(c => c.DisplayName, StringComparer.Ordinal);

    /// <summary>"Test collection for Smc.Integration.Tests.JobTests" → "JobTests"; a named collection keeps its name.</summary>
    private static string ClassName(ITestCollection collection) => collection.DisplayName[(collection.DisplayName.LastIndexOf('.') + 1)..];
}
