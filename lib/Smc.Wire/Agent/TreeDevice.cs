namespace Smc.Wire.Agent;

/// <summary>
/// The "disk" of a <c>ContainerImage</c> round: <c>tree:/</c> in a command's disk list asks the agent for a file-level
/// capture of the source's root file system (or the <c>--root</c> it was registered with) as one tar stream, which then
/// goes through the same chunk, seal and upload pipeline as a disk; the control plane's image of it is the layer's tar.
/// </summary>
public static class TreeDevice
{
    public const string Prefix = "tree:";

    public const string Root = Prefix + "/";

    public static bool Is(string device) => device.StartsWith(Prefix, StringComparison.Ordinal);
}
