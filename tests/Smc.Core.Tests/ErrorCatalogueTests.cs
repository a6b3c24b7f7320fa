using System.Reflection;
using System.Text.RegularExpressions;
using Smc.Core.Errors;

namespace Smc.Core.Tests;

/// <summary>
/// One error catalogue: every code the API and job records use is a constant of <see cref="ErrorCodes"/>, and the table
/// under "Error codes" in docs/api.md lists exactly those codes — a code added without its documentation, or documented
/// but gone, fails here.
/// </summary>
public sealed partial class ErrorCatalogueTests
{
    [Fact]
    public void DocsApiErrorTable_ListsExactlyTheCodesOfErrorCodes()
    {
        HashSet<string> declared = [.. typeof(ErrorCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f is { IsLiteral: true } && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!)
            .Where(v => !v.EndsWith('.'))];

        string docs = File.ReadAllText(Path.Combine(ArchitectureTests.RepoRoot(), "docs", "api.md"));
        int start = docs.IndexOf("\n## Error codes", StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/api.md has no 'Error codes' section");
        int end = docs.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        string section = docs[start..(end < 0 ? docs.Length : end)];
        List<string> listed = [.. Row().Matches(section).Select(m => m.Groups[1].Value)];

        Assert.Equal(listed.Count, listed.Distinct(StringComparer.Ordinal).Count());
        Assert.Empty(declared.Except(listed, StringComparer.Ordinal).Order(StringComparer.Ordinal)); // declared, not documented
        Assert.Empty(listed.Except(declared, StringComparer.Ordinal).Order(StringComparer.Ordinal)); // documented, not declared
    }

    [GeneratedRegex(@"^\| `([^`]+)` \|", RegexOptions.Multiline)]
    private static partial Regex Row();
}
