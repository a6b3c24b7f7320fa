// Each test class starts real processes (Azurite, smc-control, smc-agent) on a 2-core machine: one class at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

// The tests drive Linux tools (sfdisk, mkfs, sh) and Unix file modes.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
