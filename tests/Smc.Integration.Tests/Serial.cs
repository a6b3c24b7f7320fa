namespace Smc.Integration.Tests;

/// <summary>
/// Classes that run alone, after the parallel ones: a heartbeat deadline (<see cref="LivenessTests"/>), a timer's due
/// time across a host crash (<see cref="ScheduledRoundDurabilityTests"/>), freezes and write bounds on mounted file systems
/// (<see cref="LiveSourceTests"/>), twenty agents at once (<see cref="FleetLoadTests"/>).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class Serial
{
    public const string Name = "Serial";
}
