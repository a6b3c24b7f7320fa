using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Smc.Core.Tests;

/// <summary>Dependencies point inward (hosts → adapters → core → wire; agent → wire); this keeps the house from rotting.</summary>
public sealed class ArchitectureTests
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    [Theory]
    [InlineData("lib/Smc.Wire", "Smc.Wire.dll", new string[0], new[] { "Smc.", "Azure", "Microsoft.DurableTask", "Microsoft.AspNetCore", "Microsoft.Extensions" })]
    [InlineData("lib/Smc.Disks", "Smc.Disks.dll", new[] { "Smc.Wire" }, new[] { "Smc.Core", "Azure", "Microsoft.DurableTask", "Microsoft.AspNetCore", "Microsoft.Extensions" })]
    [InlineData("lib/Smc.Transfer", "Smc.Transfer.dll", new[] { "ZstdSharp" }, new[] { "Smc.Core", "Smc.Disks", "Azure", "Microsoft.DurableTask", "Microsoft.AspNetCore", "Microsoft.Extensions" })]
    [InlineData("lib/Smc.Boot", "Smc.Boot.dll", new[] { "Smc.Wire", "Smc.Disks", "ZstdSharp" }, new[] { "Smc.Core", "Smc.Transfer", "Azure", "Microsoft.DurableTask", "Microsoft.AspNetCore", "Microsoft.Extensions" })]
    [InlineData("functions/Smc.Core", "Smc.Core.dll", new[] { "Smc.Wire", "Smc.Boot", "Microsoft.DurableTask.Abstractions" }, new[] { "Azure", "Microsoft.Azure", "Microsoft.AspNetCore", "Smc.Storage", "Smc.Api", "Smc.Control", "Smc.Functions", "Smc.Agent" })]
    [InlineData("functions/Smc.Storage.Azure", "Smc.Storage.Azure.dll", new[] { "Smc.Core", "Azure.Data.Tables" }, new[] { "Smc.Api", "Smc.Control", "Smc.Functions", "Microsoft.AspNetCore", "Smc.Agent" })]
    [InlineData("functions/Smc.Alibaba", "Smc.Alibaba.dll", new[] { "Smc.Core" }, new[] { "Smc.Api", "Smc.Control", "Smc.Functions", "Smc.Agent", "Smc.Storage", "Azure", "Microsoft.AspNetCore" })]
    [InlineData("lib/Smc.Files", "Smc.Files.dll", new string[0], new[] { "Smc.", "Azure", "Microsoft.AspNetCore", "Microsoft.DurableTask", "Microsoft.Extensions" })]
    [InlineData("functions/Smc.Registry", "Smc.Registry.dll", new[] { "Smc.Core" }, new[] { "Smc.Api", "Smc.Control", "Smc.Functions", "Smc.Agent", "Smc.Storage", "Azure", "Microsoft.AspNetCore" })]
    [InlineData("functions/Smc.Api", "Smc.Api.dll", new[] { "Smc.Core", "Smc.Alibaba", "Smc.Registry" }, new[] { "Smc.Control", "Smc.Functions", "Smc.Agent", "Microsoft.Azure.Functions" })]
    [InlineData("agent/Smc.Agent", "smc-agent.dll", new[] { "Smc.Wire", "Smc.Disks", "Smc.Transfer", "Smc.Boot" }, new[] { "Smc.Core", "Smc.Storage", "Smc.Api", "Microsoft.DurableTask", "Microsoft.AspNetCore" })]
    public void Assembly_References_PointInward(string project, string dll, string[] mustReference, string[] mustNotReference)
    {
        string path = Path.Combine(RepoRoot(), project, "bin", Configuration, "net10.0", dll);
        Assert.True(File.Exists(path), $"{path} missing: build the solution first.");
        using var pe = new PEReader(File.OpenRead(path));
        MetadataReader md = pe.GetMetadataReader();
        List<string> references = md.AssemblyReferences.Select(h => md.GetString(md.GetAssemblyReference(h).Name)).ToList();

        Assert.All(mustReference, r => Assert.Contains(r, references));
        foreach (string forbidden in mustNotReference)
        {
            Assert.DoesNotContain(references, r => r.StartsWith(forbidden, StringComparison.Ordinal));
        }
    }

    /// <summary>
    /// Classes stay small enough to read as one stage: a source file of the hosts, the control plane or the agent over
    /// ~400 lines says why in its header ("Over 400 lines on purpose: …"), or is split.
    /// </summary>
    [Fact]
    public void SourceFiles_Over400Lines_SayWhy()
    {
        string root = RepoRoot();
        string[] offenders = [.. new[] { "functions", "agent" }
            .SelectMany(d => Directory.EnumerateFiles(Path.Combine(root, d), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(f => File.ReadLines(f).Count() > 420 && !File.ReadLines(f).Take(40).Any(l => l.Contains("Over 400 lines on purpose:", StringComparison.Ordinal)))
            .Select(f => $"{Path.GetRelativePath(root, f)} ({File.ReadLines(f).Count()} lines)")];
        Assert.Empty(offenders);
    }

    internal static string RepoRoot()
    {
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "SmcServerless.sln")))
            {
                return dir;
            }
        }

        throw new InvalidOperationException("SmcServerless.sln not found");
    }
}
