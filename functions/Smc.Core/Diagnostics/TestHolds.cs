using System.Diagnostics;
using System.Globalization;

namespace Smc.Core.Diagnostics;

/// <summary>
/// Fault injection for the tests, off unless its variable names a file that exists: with
/// <c>SMC_TEST_ASSEMBLY_HOLD=FILE</c> the host, inside a slice's assembly (after its first pack is kept, before the
/// rest), writes <c>FILE.assembling</c> (its process id) and waits while FILE exists, at most a minute — so a test
/// kills the host exactly there, not wherever a poll happened to land. A hold ended by the cancellation token it was
/// given (the host stopping) writes <c>FILE.cancelled</c> at that moment, so a test sees the token reached the step.
/// </summary>
public static class TestHolds
{
    public const string AssemblyVariable = "SMC_TEST_ASSEMBLY_HOLD";

    /// <summary>Holds inside assembly when <see cref="AssemblyVariable"/> asks for it.</summary>
    public static Task InsideAssemblyAsync(CancellationToken cancellationToken) => HoldAsync(AssemblyVariable, "assembling", cancellationToken);

    private static async Task HoldAsync(string variable, string reached, CancellationToken cancellationToken)
    {
        if (Environment.GetEnvironmentVariable(variable) is not { Length: > 0 } hold || !File.Exists(hold))
        {
            return;
        }

        // Whole or not at all (written beside, then renamed): a test polling for the file reads the process id, never "".
        // Each hold writes its own temporary file: slices assemble in parallel, and two holds truncating one shared
        // temporary file could rename it while the other had emptied it (seen: the test read "").
        string temporary = $"{hold}.{reached}.{Guid.NewGuid():N}.tmp";
        await File.WriteAllTextAsync(temporary, Environment.ProcessId.ToString(CultureInfo.InvariantCulture), cancellationToken);
        File.Move(temporary, $"{hold}.{reached}", overwrite: true);
        // Written inside Cancel() itself, before the host goes on stopping.
        using CancellationTokenRegistration cancelled = cancellationToken.Register(() =>
            File.WriteAllText($"{hold}.cancelled", Environment.ProcessId.ToString(CultureInfo.InvariantCulture)));
        var clock = Stopwatch.StartNew();
        while (File.Exists(hold) && clock.Elapsed < TimeSpan.FromMinutes(1))
        {
            await Task.Delay(20, cancellationToken);
        }
    }
}
