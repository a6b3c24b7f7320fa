using System.Buffers;
using System.Globalization;

namespace Smc.Wire.Staging;

/// <summary>
/// Blob names of a job's staging area (docs/wire-format.md, "Blob naming"). One container per job; one folder per
/// round; inside it the packs, then the manifest, then the commit marker.
/// </summary>
/// <remarks>
/// Write ordering: a writer uploads every pack of a round first, then <see cref="Manifest"/>, then
/// <see cref="Commit"/> last. Readers trust only rounds whose commit marker exists and whose manifest's SHA-256
/// equals the one the control plane recorded when the round was committed; anything else in the container
/// (packs of an unfinished round, an orphaned pack of a retried upload) is ignored.
/// </remarks>
public static class StagingNames
{
    /// <summary>Prefix of every staging container; the job id follows.</summary>
    public const string ContainerPrefix = "smcstg-";

    /// <summary>The highest round number a blob name can carry (six decimal digits).</summary>
    public const int MaxRound = 999_999;

    /// <summary>Length of a pack id: 16 lowercase hexadecimal characters.</summary>
    public const int PackIdLength = 16;

    private static readonly SearchValues<char> JobIdAlphabet = SearchValues.Create("abcdefghijklmnopqrstuvwxyz234567");
    private static readonly SearchValues<char> HexDigits = SearchValues.Create("0123456789abcdef");

    /// <summary>The staging container of a job: <c>smcstg-j-abcdefghijklmnop</c>.</summary>
    /// <exception cref="ArgumentException">The job id is not <c>j-</c> followed by 16 lowercase base-32 characters.</exception>
    public static string Container(string jobId)
    {
        if (!IsJobId(jobId))
        {
            throw new ArgumentException(
                $"'{jobId}' is not a job id: expected 'j-' followed by 16 characters of a-z and 2-7.",
                nameof(jobId));
        }

        return ContainerPrefix + jobId;
    }

    /// <summary>The folder of a round inside the container: <c>r000000/</c>.</summary>
    public static string RoundPrefix(int round)
    {
        CheckRound(round);
        return "r" + round.ToString("D6", CultureInfo.InvariantCulture) + "/";
    }

    /// <summary>A pack of a round: <c>r000000/packs/0123456789abcdef.pack</c>.</summary>
    /// <exception cref="ArgumentException">The pack id is not 16 lowercase hexadecimal characters.</exception>
    public static string Pack(int round, string packId)
    {
        if (!IsPackId(packId))
        {
            throw new ArgumentException(
                $"'{packId}' is not a pack id: expected {PackIdLength} characters of 0-9 and a-f.",
                nameof(packId));
        }

        return RoundPrefix(round) + "packs/" + packId + ".pack";
    }

    /// <summary>The manifest of a round: <c>r000000/manifest.json</c>.</summary>
    public static string Manifest(int round) => RoundPrefix(round) + "manifest.json";

    /// <summary>The commit marker of a round, written last: <c>r000000/commit.json</c>.</summary>
    public static string Commit(int round) => RoundPrefix(round) + "commit.json";

    /// <summary>True when <paramref name="jobId"/> is <c>j-</c> followed by 16 lowercase base-32 characters.</summary>
    public static bool IsJobId(string? jobId) =>
        jobId is { Length: 18 }
        && jobId.StartsWith("j-", StringComparison.Ordinal)
        && jobId.AsSpan(2).IndexOfAnyExcept(JobIdAlphabet) < 0;

    /// <summary>True when <paramref name="packId"/> is 16 lowercase hexadecimal characters.</summary>
    public static bool IsPackId(string? packId) =>
        packId is { Length: PackIdLength }
        && packId.AsSpan().IndexOfAnyExcept(HexDigits) < 0;

    private static void CheckRound(int round)
    {
        if (round is < 0 or > MaxRound)
        {
            throw new ArgumentOutOfRangeException(nameof(round), round, $"A round is 0 to {MaxRound}.");
        }
    }
}
