using Smc.Core.Api;
using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Images;
using Smc.Core.Ports;
using Smc.Core.Security;

namespace Smc.Core.Services;

/// <summary>Local images (provider <c>local</c>): listing, details, and disk downloads as RAW or fixed VHD.</summary>
public sealed class ImageService(IRecordStore<LocalImage> images, IImageStore store, MasterKey master)
{
    public async Task<Page<LocalImage>> ListAsync(string? jobId, PageRequest page, CancellationToken cancellationToken = default)
    {
        var all = new List<LocalImage>();
        await foreach (Stored<LocalImage> i in images.ListAsync(cancellationToken))
        {
            if (jobId is null || i.Value.JobId == jobId)
            {
                all.Add(i.Value);
            }
        }

        return page.Apply(all.OrderByDescending(i => i.CreatedAt).ThenBy(i => i.ImageId, StringComparer.Ordinal).ToList());
    }

    public async Task<LocalImage> GetAsync(string imageId, CancellationToken cancellationToken = default) =>
        (Ids.IsWellFormed(imageId, Ids.ImagePrefix) ? await images.GetAsync(imageId, cancellationToken) : null)?.Value
            ?? throw SmcException.NotFound(ErrorCodes.ImageNotFound, $"No image '{imageId}'. List them with GET /api/v1/images.");

    /// <summary>A seekable stream of the disk (raw bytes, plus the VHD footer when <paramref name="format"/> is vhd).</summary>
    public async Task<(Stream Content, string FileName)> OpenDiskAsync(string imageId, string indexText, string? format, CancellationToken cancellationToken = default)
    {
        LocalImage image = await GetAsync(imageId, cancellationToken);
        if (!int.TryParse(indexText, out int index) || image.Disks.All(d => d.Index != index))
        {
            throw SmcException.NotFound(ErrorCodes.InvalidDiskIndex, $"Image '{imageId}' has disks {string.Join(", ", image.Disks.Select(d => d.Index))} (0 = system disk).");
        }

        format ??= "raw";
        if (format is not ("raw" or "vhd"))
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidFormat, "format must be raw or vhd.");
        }

        if (image.Status != "Available")
        {
            throw SmcException.Conflict(ErrorCodes.JobStatusDenied, $"Image '{imageId}' is {image.Status}; download it once it is Available.");
        }

        ImageDiskMap map;
        ExtentTable extents;
        await using (Stream document = await store.OpenDocumentAsync(imageId, ImageDiskMap.DocumentName(index), cancellationToken)
            ?? throw SmcException.NotFound(ErrorCodes.ImageNotFound, $"The disks of image '{imageId}' are gone."))
        {
            (map, extents) = await ExtentTable.LoadAsync(document, cancellationToken);
        }

        Stream raw;
        try
        {
            var keys = map.Keys.ToDictionary(k => k.Key, k => master.Open(Convert.FromBase64String(k.Value), ImageDiskMap.KeyContext(map.JobId, k.Key)));
            raw = new PackedDiskStream(map, extents, keys, store);
        }
        catch
        {
            extents.Dispose();
            throw;
        }

        if (format == "raw")
        {
            return (raw, $"{imageId}-disk{index}.raw");
        }

        long size = image.Disks.First(d => d.Index == index).SizeBytes;
        byte[] footer = VhdFooter.Create(size, new Guid(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{imageId}/{index}"))[..16]), image.CreatedAt.UtcDateTime);
        return (new ConcatenatedStream(raw, footer), $"{imageId}-disk{index}.vhd");
    }
}
