// Each test class starts its own real processes (Azurite, smc-control, smc-agent) on free loopback ports and works in
// its own sandbox directory, so two classes run side by side: most of a test's time is spent waiting on queues,
// timers and child processes, not computing. Classes whose assertions hold a deadline against the machine's clock
// or that freeze file systems run alone, after the others (the Serial collection).
[assembly: CollectionBehavior(CollectionBehavior.CollectionPerClass, MaxParallelThreads = 2)]

// The longest classes start first, so none is left running alone at the end (LongestFirst.cs).
[assembly: TestCollectionOrderer("Smc.Integration.Tests.LongestFirst", "Smc.Integration.Tests")]

// The tests drive Linux tools (sfdisk, mkfs, sh) and Unix file modes.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
