namespace Smc.Wire.Boot;

/// <summary>
/// One finding of a boot check: an id (<c>boot.mode</c>, <c>boot.loader</c>, <c>fstab.devices</c>, <c>boot.root</c>,
/// <c>boot.kernel</c>, <c>drivers.virtio</c>, <c>network.config</c>, <c>disk.limits</c>, <c>staging.throughput</c>…),
/// pass/warn/fail, what was found, and the fix.
/// </summary>
public sealed record BootCheck(string Id, string Status, string Message, string? Fix)
{
    public const string Pass = "pass", Warn = "warn", Fail = "fail";

    /// <summary><c>fail</c> when any check failed, else <c>warn</c> when any warned, else <c>pass</c>.</summary>
    public static string Worst(IEnumerable<BootCheck> checks)
    {
        string worst = Pass;
        foreach (BootCheck c in checks)
        {
            if (c.Status == Fail)
            {
                return Fail;
            }

            if (c.Status == Warn)
            {
                worst = Warn;
            }
        }

        return worst;
    }
}
