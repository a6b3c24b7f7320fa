using System.Diagnostics;
using System.Security.Cryptography;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Smc.Agent.Control;
using Smc.Boot;
using Smc.Wire.Agent;
using Smc.Wire.Boot;

namespace Smc.Agent.Check;

/// <summary>
/// <c>staging.throughput</c>: a short measured upload to staging (random bytes, so compression can't flatter it, in
/// 4 MiB blocks on 4 streams as a round sends packs) to a probe container the control plane gives this source, and
/// from it the full copy's duration for the bytes in use. The control plane counts what landed before it believes
/// the rate. A probe that can't be made warns; nothing fails for it. A source with less than
/// <see cref="SmallSourceBytes"/> in use isn't probed: its whole copy takes about as long as the measurement, and 50 such
/// probes put more through staging than the 50 migrations themselves (issue 20; docs/performance.md).
/// </summary>
internal static class StagingThroughput
{
    /// <summary>Below this in use (4 probes' worth) the copy itself is the measurement.</summary>
    public const long SmallSourceBytes = 4L * StagingProbe.DefaultBytes;

    public static async Task<PreflightReport> AddAsync(PreflightReport report, ControlPlaneClient client, string credential, CancellationToken cancellationToken)
    {
        long inUse = report.Estimate?.InUseBytes ?? 0;
        BootCheck check;
        PreflightEstimate estimate = report.Estimate ?? new PreflightEstimate();
        if (inUse < SmallSourceBytes)
        {
            check = BootRules.Pass("staging.throughput", $"Not measured: {Commands.InspectCommand.Bytes(inUse)} in use is under {Commands.InspectCommand.Bytes(SmallSourceBytes)} (4 × the {Commands.InspectCommand.Bytes(StagingProbe.DefaultBytes)} probe), so the full copy takes about as long as a measurement would; the round's progress shows its rate.");
            return new PreflightReport { Checks = [.. report.Checks, check], CheckedAt = report.CheckedAt, Estimate = estimate };
        }

        try
        {
            StagingProbe probe = await client.StagingProbeAsync(credential, cancellationToken);
            if (probe.Bytes is <= 0 or > 256 << 20)
            {
                throw new InvalidDataException($"the control plane asked for a probe of {probe.Bytes} bytes (1 B – 256 MiB)");
            }

            byte[] data = RandomNumberGenerator.GetBytes(probe.Bytes);
            var blob = new BlobContainerClient(new Uri(probe.ContainerUrl)).GetBlobClient(StagingProbe.BlobName);
            Stopwatch clock = Stopwatch.StartNew();
            await blob.UploadAsync(new BinaryData(data), new BlobUploadOptions
            {
                TransferOptions = new StorageTransferOptions { InitialTransferSize = 4 << 20, MaximumTransferSize = 4 << 20, MaximumConcurrency = 4 },
            }, cancellationToken);
            double seconds = Math.Max(clock.Elapsed.TotalSeconds, 0.001);
            double rate = probe.Bytes / seconds;
            long fullCopy = (long)Math.Ceiling(inUse / rate);
            estimate = new PreflightEstimate { InUseBytes = inUse, UploadBytesPerSecond = Math.Round(rate), FullCopySeconds = fullCopy };
            string message = $"Uploaded {Commands.InspectCommand.Bytes(probe.Bytes)} to staging in {seconds:0.0} s ({Commands.InspectCommand.Bytes((long)rate)}/s): a full copy of the {Commands.InspectCommand.Bytes(inUse)} in use takes about {TimeSpan.FromSeconds(fullCopy):g} before compression (free and zero blocks are skipped, the rest compressed, so usually less).";
            check = fullCopy > 86_400
                ? BootRules.Warn("staging.throughput", message, "A full copy over a day: raise --threads, lift --bandwidth-limit, or run the agent nearer the staging account.")
                : BootRules.Pass("staging.throughput", message);
        }
        catch (Exception e) when (e is ControlPlaneException or Azure.RequestFailedException or HttpRequestException or InvalidDataException or UriFormatException)
        {
            check = BootRules.Warn("staging.throughput", $"The upload rate to staging could not be measured: {e.Message}", "Check that this machine reaches the storage account (HTTPS) and run the check again.");
        }

        return new PreflightReport { Checks = [.. report.Checks, check], CheckedAt = report.CheckedAt, Estimate = estimate };
    }
}
