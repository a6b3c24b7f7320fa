namespace Smc.Core.Services;

/// <summary>The documents kept beside an image in the image store (besides its disk maps, <see cref="Images.ImageDiskMap.DocumentName"/>).</summary>
public static class ImageDocuments
{
    /// <summary>The fingerprints of the image's round (<see cref="Smc.Wire.Staging.RoundFingerprints"/>): the next round's base.</summary>
    public const string Fingerprints = "fingerprints.json";

    /// <summary>
    /// Of a ContainerImage job with a registry: the tree listing (Smc.Files TreeListing) of the image its layers make,
    /// which the next round's capture compares with.
    /// </summary>
    public const string Listing = "listing.json";
}
