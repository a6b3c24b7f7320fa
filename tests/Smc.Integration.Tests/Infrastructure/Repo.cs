namespace Smc.Integration.Tests.Infrastructure;

/// <summary>Paths of the repository and of the built executables the tests run.</summary>
internal static class Repo
{
    public static string Root { get; } = FindRoot();

#if DEBUG
    public const string Configuration = "Debug";
#else
    public const string Configuration = "Release";
#endif

    public static string ControlDll => Path.Combine(Root, "functions", "Smc.Control", "bin", Configuration, "net10.0", "smc-control.dll");

    public static string AgentExe => Path.Combine(Root, "agent", "Smc.Agent", "bin", Configuration, "net10.0", "smc-agent");

    public static string FunctionsMetadata => Path.Combine(Root, "functions", "Smc.Functions", "bin", Configuration, "net10.0", "functions.metadata");

    public static string Azurite => Path.Combine(Root, "node_modules", ".bin", "azurite");

    private static string FindRoot()
    {
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "SmcServerless.sln")))
            {
                return dir;
            }
        }

        throw new InvalidOperationException("SmcServerless.sln not found above " + AppContext.BaseDirectory);
    }
}
