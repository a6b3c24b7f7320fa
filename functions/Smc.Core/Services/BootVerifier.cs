using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Smc.Boot;
using Smc.Core.Domain;
using Smc.Core.Images;
using Smc.Core.Options;
using Smc.Core.Ports;
using Smc.Disks;

namespace Smc.Core.Services;

/// <summary>
/// The automatic boot test of an Image round's image (<see cref="QemuBootTester"/>), after it is made: its disks (the
/// system disk first) written out as sparse raw files, then booted with its own kernel and — when its boot loader talks to the serial
/// port — from its own sectors. The result goes on the image and on the run; a failed boot warns, it never fails the
/// round. Idempotent: an image tested once is not tested again (a retried activity finds the result).
/// </summary>
public sealed class BootVerifier(
    IRecordStore<ReplicationJob> jobs,
    IRecordStore<LocalImage> images,
    ImageService imageService,
    QemuBootTester tester,
    IOptions<VerifyOptions> options,
    TimeProvider clock,
    ILogger<BootVerifier> logger)
{
    public async Task<bool> VerifyAsync(string jobId, int round, string imageId, CancellationToken cancellationToken)
    {
        ReplicationJob? job = (await jobs.GetAsync(jobId, cancellationToken))?.Value;
        LocalImage? image = (await images.GetAsync(imageId, cancellationToken))?.Value;
        if (job is null || image is null || job.TargetType != TargetType.Image || image.BootTest is not null)
        {
            return false;
        }

        BootTest result = tester.Enabled
            ? await TestAsync(image, cancellationToken)
            : new BootTest { Status = BootTest.NotRun, Message = "Boot tests are off on this control plane (SMC_VERIFY__QEMU names no qemu).", TestedAt = clock.GetUtcNow() };
        logger.BootTested(imageId, jobId, round, result.Status, result.Seconds ?? 0, result.Message);
        await images.UpdateAsync(imageId, i =>
        {
            i.BootTest = result;
            return true;
        }, cancellationToken);
        await jobs.UpdateAsync(jobId, j =>
        {
            if (j.ReplicationJobRuns.FirstOrDefault(r => r.Round == round) is not { } run)
            {
                return false;
            }

            run.BootTest = new BootTest { Status = result.Status, Message = result.Message, Seconds = result.Seconds, TestedAt = result.TestedAt };
            return true;
        }, cancellationToken: cancellationToken);
        return true;
    }

    private async Task<BootTest> TestAsync(LocalImage image, CancellationToken cancellationToken)
    {
        string imageId = image.ImageId;
        string work = Path.Combine(options.Value.WorkDirectory ?? Path.GetTempPath(), $"smc-boot-{imageId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            // Every disk of the image, the system disk first: fstab may mount file systems of its data disks too.
            var disks = new List<string>();
            foreach (ImageDisk imageDisk in image.Disks.OrderBy(d => d.Index))
            {
                string path = Path.Combine(work, $"disk{imageDisk.Index}.raw");
                (Stream content, _) = await imageService.OpenDiskAsync(imageId, imageDisk.Index.ToString(System.Globalization.CultureInfo.InvariantCulture), "raw", cancellationToken);
                await using (content)
                {
                    await WriteSparseAsync(content, path, cancellationToken);
                }

                disks.Add(path);
            }

            (BootTarget? target, string? reason) = disks.Count > 0 ? FindTarget(disks[0]) : (null, "the image has no disks");
            var attempts = new List<BootAttempt>();
            if (target is not null)
            {
                attempts.Add(await tester.BootKernelAsync(disks, target, work, cancellationToken));
            }

            // From its own sectors when the loader shows itself on the serial port, and when the kernel booted (if it
            // didn't, the same kernel from the disk fails the same way, only slower).
            if (target is { SerialConsole: true } && attempts[0].Status == BootTest.Booted)
            {
                attempts.Add(await tester.BootFirmwareAsync(disks, work, target.Uefi, cancellationToken));
            }

            if (attempts.Count == 0)
            {
                return new BootTest { Status = BootTest.NotRun, Message = $"Nothing to boot: {reason}.", TestedAt = clock.GetUtcNow() };
            }

            // qemu itself missing is this host's configuration, not the image's failure; so is a missing UEFI firmware,
            // which leaves the attempts that ran to decide.
            List<BootAttempt> ran = [.. attempts.Where(a => a.Status != BootTest.NotRun)];
            if (ran.Count == 0)
            {
                return new BootTest { Status = BootTest.NotRun, Message = attempts[0].Message, Attempts = attempts, TestedAt = clock.GetUtcNow() };
            }

            BootAttempt decisive = ran.FirstOrDefault(a => a.Status != BootTest.Booted) ?? ran[^1];
            bool booted = ran.All(a => a.Status == BootTest.Booted);
            return new BootTest
            {
                Status = booted ? BootTest.Booted : BootTest.Failed,
                Message = string.Join(" ", attempts.Select(a => $"{a.Method}: {a.Message}")),
                Seconds = Math.Round(ran.Sum(a => a.Seconds), 1),
                ConsoleTail = decisive.ConsoleTail,
                Attempts = attempts,
                TestedAt = clock.GetUtcNow(),
            };
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a file qemu still held goes with the next cleanup of the temp directory.
            }
        }
    }

    private static (BootTarget? Target, string? Reason) FindTarget(string disk)
    {
        try
        {
            using DiskReader reader = DiskReader.Open(disk);
            return BootTarget.Find(reader);
        }
        catch (Exception e) when (e is DiskFormatException or InvalidDataException or IOException)
        {
            return (null, e.Message);
        }
    }

    /// <summary>Copies a disk to a file, leaving all-zero MiBs as holes (a 2 GiB disk with 600 MiB in use writes 600 MiB).</summary>
    private static async Task WriteSparseAsync(Stream content, string path, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        byte[] block = new byte[1 << 20];
        long length = 0;
        while (true)
        {
            int filled = 0;
            while (filled < block.Length)
            {
                int read = await content.ReadAsync(block.AsMemory(filled), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                filled += read;
            }

            if (filled == 0)
            {
                break;
            }

            if (block.AsSpan(0, filled).IndexOfAnyExcept((byte)0) >= 0)
            {
                file.Position = length;
                await file.WriteAsync(block.AsMemory(0, filled), cancellationToken);
            }

            length += filled;
        }

        file.SetLength(length);
    }
}
