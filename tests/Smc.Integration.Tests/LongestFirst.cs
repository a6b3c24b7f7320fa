using Xunit.Abstractions;

namespace Smc.Integration.Tests;

/// <summary>
/// Starts the longest test classes first. Two classes run at a time (<c>AssemblyInfo.cs</c>) and xUnit starts them in the
/// orderer's order, so a long class that happens to start last keeps one thread busy while the other idles: the suite's
/// wall time is at least its start plus its length. Longest-first is the usual cure (LPT scheduling). The weights are
/// each class's test seconds measured on this machine (<c>scripts/test.sh</c>, December 2026); a class not listed weighs
/// nothing and runs after the listed ones, in name order. One exception: the boot class, the longest, starts fifth
/// (<see cref="BootClass"/>). Order only: no test depends on it.
/// </summary>
public sealed class LongestFirst : ITestCollectionOrderer
{
    private static readonly Dictionary<string, int> Seconds = new(StringComparer.Ordinal)
    {
        ["BootTestTests"] = 550,
        ["AlibabaExportTests"] = 190,
        ["DurabilityTests"] = 190,
        ["IncrementalTests"] = 95,
        ["ContainerCaptureTests"] = 90,
        ["JobTests"] = 90,
        ["StorageRestartTests"] = 85,
        ["StagingSecurityTests"] = 85,
        ["AgentCrashTests"] = 40,
        ["RoundHistoryTests"] = 37,
        ["LayoutMigrationTests"] = 31,
        ["RegistrationTests"] = 30,
        ["DashboardTests"] = 28,
        ["OperatorKeyTests"] = 23,
        ["SecurityTests"] = 22,
        ["FuzzTests"] = 20,
    };

    /// <summary>
    /// The boot tests need the Debian disks that <c>scripts/test.sh</c> builds in the background from its start: ~6
    /// minutes after the integration tests begin on a fresh machine (every CI run), where a boot class started first
    /// held its thread blocked, doing nothing, all that time (measured: its first test waited 5 m 55 s). It starts fifth
    /// instead — after about five minutes of other classes on that thread — and is still done well before the others
    /// when the disks are cached (~8 minutes of work).
    /// </summary>
    private const string BootClass = "BootTestTests";

    private const int BootClassPosition = 4;

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections)
    {
        List<ITestCollection> ordered = [.. testCollections.OrderByDescending(c => Seconds.GetValueOrDefault(ClassName(c))).ThenBy(c => c.DisplayName, StringComparer.Ordinal)];
        int boot = ordered.FindIndex(c => ClassName(c) == BootClass);
        if (boot >= 0)
        {
            ITestCollection collection = ordered[boot];
            ordered.RemoveAt(boot);
            ordered.Insert(Math.Min(BootClassPosition, ordered.Count), collection);
        }

        return ordered;
    }

    /// <summary>"Test collection for Smc.Integration.Tests.JobTests" → "JobTests"; a named collection keeps its name.</summary>
    private static string ClassName(ITestCollection collection) => collection.DisplayName[(collection.DisplayName.LastIndexOf('.') + 1)..];
}
