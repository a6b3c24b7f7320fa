using System.Globalization;
using Smc.Core.Domain;

namespace Smc.Core.Services;

/// <summary>
/// The placeholders a job's <c>name</c> and <c>imageName</c> may hold (from a template, or given directly):
/// <c>{source}</c> becomes the source server's name when the job is created; <c>{round}</c> becomes each image's round.
/// </summary>
public static class JobNaming
{
    public const string Source = "{source}";
    public const string Round = "{round}";

    /// <summary>The name an image of <paramref name="round"/> takes: the job's imageName (else its name), <c>{round}</c> filled in.</summary>
    public static string ImageName(ReplicationJob job, int round) =>
        (job.ImageName ?? job.Name).Replace(Round, round.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    /// <summary><c>{source}</c> filled in with the source server's name.</summary>
    public static string? WithSource(string? text, string sourceName) =>
        text?.Replace(Source, sourceName, StringComparison.Ordinal);

    public static bool NeedsSource(string? text) => text?.Contains(Source, StringComparison.Ordinal) == true;
}
