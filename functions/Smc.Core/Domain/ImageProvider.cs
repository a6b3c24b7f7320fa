namespace Smc.Core.Domain;

public static class ImageProvider
{
    /// <summary>The embedded default: images kept in the control plane's own storage.</summary>
    public const string Local = "local";

    public const string Alibaba = "alibaba";
}
