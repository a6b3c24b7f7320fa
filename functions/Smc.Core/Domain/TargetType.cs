namespace Smc.Core.Domain;

public static class TargetType
{
    public const string Image = "Image";
    public const string ContainerImage = "ContainerImage";
}
