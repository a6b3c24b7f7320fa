using Xunit.Abstractions;

namespace Smc.Integration.Tests;

/// <summary>
/// Starts the longest test classes first. Two classes run at a time (<c>AssemblyInfo.cs</c>) and xUnit starts them in the
/// orderer's order, so a long class that happens to start last keeps one thread busy while the other idles: the suite's
/// wall time is at least its start plus its length. Longest-first is the usual cure (LPT scheduling). The weights are
/// each class's seconds from its first test's start to its last test's end in <c>scripts/test.sh</c>'s results on this
/// machine (7 December 2026). Every class over ~5 s is listed: one left out weighs nothing, starts after the listed ones
/// (in name order) and, if long, runs alone at the end. Order only: no test depends on it.
/// </summary>
public sealed class LongestFirst : ITestCollectionOrderer
{
    private static readonly Dictionary<string, int> Seconds = new(StringComparer.Ordinal)
    {
        ["BootTestTests"] = 585,
        ["AlibabaExportTests"] = 240,
        ["DurabilityTests"] = 165,
        ["JobTests"] = 90,
        ["IncrementalTests"] = 85,
        ["ContainerCaptureTests"] = 75,
        ["StorageRestartTests"] = 65,
        ["StagingSecurityTests"] = 50,
        ["JobKeySpareTests"] = 50,
        ["WaveTests"] = 40,
        ["RegistrationTests"] = 40,
        ["InventoryTests"] = 37,
        ["PauseTests"] = 36,
        ["AgentCrashTests"] = 34,
        ["CommandLongPollTests"] = 30, // 9 until its watching agent's test (8 December)
        ["RoundHistoryTests"] = 23,
        ["LayoutMigrationTests"] = 21,
        ["DashboardTests"] = 19,
        ["ServerUrlTests"] = 18,
        ["JobTemplateTests"] = 15,
        ["SmcCompatTests"] = 14,
        ["SecurityTests"] = 14,
        ["SourceReadErrorTests"] = 12,
        ["AgentCliTests"] = 12,
        ["FullCopyTests"] = 11,
        ["FuzzTests"] = 11,
        ["RunArchiveTests"] = 10,
        ["BatchTests"] = 9,
        ["LocalImageTests"] = 9,
        ["OverviewTests"] = 7,
        ["AuthTests"] = 7,
    };

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections.OrderByDescending(c => Seconds.GetValueOrDefault(ClassName(c))).ThenBy(c => c.DisplayName, StringComparer.Ordinal);

    /// <summary>"Test collection for Smc.Integration.Tests.JobTests" → "JobTests"; a named collection keeps its name.</summary>
    private static string ClassName(ITestCollection collection) => collection.DisplayName[(collection.DisplayName.LastIndexOf('.') + 1)..];
}
