using System.Globalization;
using System.Text;
using System.Text.Json;
using CsvHelper;
using CsvHelper.Configuration;
using Microsoft.AspNetCore.Http;
using Smc.Core.Api;
using Smc.Core.Domain;
using Smc.Core.Errors;
using Smc.Core.Services;

namespace Smc.Api.Routes;

/// <summary>
/// Inventory import and export (issue 19) in CSV — as operators keep it in spreadsheets — and in JSON. Columns (CSV
/// header, case-insensitive; JSON field names): the import's (<see cref="ImportColumns"/>), then what the export adds
/// about each job's state (<see cref="ExportColumns"/>, ignored on import, so an export imports back). A CSV
/// <c>tags</c> cell is <c>key=value</c> pairs separated by <c>;</c>. CSV is read and written by CsvHelper (RFC 4180).
/// </summary>
internal static class InventoryRoutes
{
    public static readonly string[] ImportColumns =
        ["sourceId", "sourceName", "name", "description", "template", "wave", "tags", "runOnce", "syncInterval", "maxNumberOfImageToKeep", "imageName", "targetType", "imageProvider", "regionId"];

    public static readonly string[] ExportColumns = ["jobId", "status", "currentRound", "lastRoundEnd", "lagSeconds", "images", "lastError"];

    public static IEnumerable<ApiRoute> All()
    {
        yield return new("ImportInventory", "POST", "v1/imports", RouteAuth.Operator, async call =>
        {
            byte[] body = await call.ReadBytesAsync();
            bool csv = call.Request.ContentType?.StartsWith("text/csv", StringComparison.OrdinalIgnoreCase) == true;
            List<InventoryRow> rows = csv ? ReadCsv(body) : ReadJson(body);
            List<InventoryResult> results = await call.Get<InventoryService>().ImportAsync(rows, call.CancellationToken);
            return Results.Json(new
            {
                summary = results.GroupBy(r => r.Status, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal),
                results,
            }, ApiJson.Options);
        });
        yield return new("ExportInventory", "GET", "v1/exports", RouteAuth.Operator, async call =>
        {
            string format = call.Query("format") ?? "csv";
            if (format is not ("csv" or "json"))
            {
                throw SmcException.BadRequest(ErrorCodes.InvalidFormat, "format must be csv or json.");
            }

            List<InventoryExportRow> rows = await call.Get<InventoryService>().ExportAsync(
                call.Query("waveId"), TagFilter.Parse(call.Queries("tag")), call.Get<TimeProvider>().GetUtcNow(), call.CancellationToken);
            return format == "json"
                ? Results.Json(new { rows }, ApiJson.Options)
                : Results.File(WriteCsv(rows), "text/csv; charset=utf-8", "smc-inventory.csv");
        });
    }

    private static List<InventoryRow> ReadCsv(byte[] body)
    {
        using var reader = new StreamReader(new MemoryStream(body), Encoding.UTF8);
        using var csv = new CsvReader(reader, new CsvConfiguration(CultureInfo.InvariantCulture) { TrimOptions = TrimOptions.Trim, DetectColumnCountChanges = false });
        var rows = new List<InventoryRow>();
        try
        {
            if (!csv.Read() || !csv.ReadHeader() || csv.HeaderRecord is not { Length: > 0 } header)
            {
                throw SmcException.BadRequest(ErrorCodes.InvalidImport, "The CSV needs a header row naming its columns: " + string.Join(",", ImportColumns) + ".");
            }

            Dictionary<string, int> at = Columns(header);
            while (csv.Read())
            {
                if (rows.Count == InventoryService.MaxRows)
                {
                    throw SmcException.BadRequest(ErrorCodes.InvalidImport, $"An import holds at most {InventoryService.MaxRows} rows.");
                }

                string? Cell(string column) => at.TryGetValue(column.ToLowerInvariant(), out int i) && csv.TryGetField(i, out string? v) && !string.IsNullOrEmpty(v) ? v : null;
                rows.Add(Row(Cell));
            }
        }
        catch (CsvHelperException e)
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidImport, $"The CSV can't be read at row {e.Context?.Parser?.Row}: {e.Message.Split('\n')[0]}");
        }

        return rows;
    }

    private static List<InventoryRow> ReadJson(byte[] body)
    {
        JsonElement root;
        try
        {
            using JsonDocument doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 8 });
            root = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw SmcException.BadRequest(ErrorCodes.MalformedJson, $"The body is not valid JSON (line {e.LineNumber + 1}). Send {{\"rows\": [...]}}, or CSV with Content-Type text/csv.");
        }

        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("rows", out JsonElement list) || list.ValueKind != JsonValueKind.Array)
        {
            throw SmcException.BadRequest(ErrorCodes.InvalidImport, "Send {\"rows\": [...]} with one object per source server, or CSV with Content-Type text/csv.");
        }

        var rows = new List<InventoryRow>();
        foreach (JsonElement item in list.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw SmcException.BadRequest(ErrorCodes.InvalidImport, $"rows[{rows.Count}] is not an object.");
            }

            _ = Columns([.. item.EnumerateObject().Select(p => p.Name)]);
            string? Cell(string column) => item.TryGetProperty(column, out JsonElement v) ? v.ValueKind switch
            {
                JsonValueKind.Null => null,
                JsonValueKind.String => v.GetString() is { Length: > 0 } text ? text : null,
                JsonValueKind.Object when column == "tags" => null, // read as an object below, not through the CSV cell form
                _ => v.GetRawText(),
            } : null;
            rows.Add(item.TryGetProperty("tags", out JsonElement tags) && tags.ValueKind == JsonValueKind.Object
                ? Row(Cell) with { Tags = new Dictionary<string, string>(tags.EnumerateObject().Select(t => KeyValuePair.Create(t.Name, t.Value.ValueKind == JsonValueKind.String ? t.Value.GetString()! : t.Value.GetRawText())).DistinctBy(t => t.Key), StringComparer.Ordinal) }
                : Row(Cell));
        }

        return rows;
    }

    /// <summary>The column positions by lower-cased name; an unknown or repeated column refuses the whole import (a typo would silently drop values).</summary>
    private static Dictionary<string, int> Columns(string[] names)
    {
        var known = ImportColumns.Concat(ExportColumns).ToDictionary(c => c.ToLowerInvariant(), c => c, StringComparer.Ordinal);
        var at = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < names.Length; i++)
        {
            string name = names[i].Trim().ToLowerInvariant();
            if (!known.ContainsKey(name))
            {
                throw SmcException.BadRequest(ErrorCodes.InvalidImport, $"Unknown column '{names[i]}'. Columns: {string.Join(", ", ImportColumns)} (and the export's {string.Join(", ", ExportColumns)}, ignored).");
            }

            if (!at.TryAdd(name, i))
            {
                throw SmcException.BadRequest(ErrorCodes.InvalidImport, $"The column '{names[i]}' is given twice.");
            }
        }

        return at;
    }

    /// <summary>A row from its cells; a cell of the wrong kind makes it a row that reports its error and does nothing.</summary>
    private static InventoryRow Row(Func<string, string?> cell)
    {
        InventoryError? error = null;
        bool? runOnce = cell("runOnce") switch
        {
            null => null,
            var t when bool.TryParse(t, out bool b) => b,
            var t => Fail(ref error, ErrorCodes.InvalidImport, $"runOnce is '{t}': give true or false.") as bool?,
        };
        int? keep = cell("maxNumberOfImageToKeep") switch
        {
            null => null,
            var t when int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out int n) => n,
            var t => Fail(ref error, ErrorCodes.InvalidMaxNumberOfImageToKeep, $"maxNumberOfImageToKeep is '{t}': give a whole number from 1 to 10.") as int?,
        };
        Dictionary<string, string>? tags = null;
        if (cell("tags") is { } text)
        {
            tags = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (string pair in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                int eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0 || !tags.TryAdd(pair[..eq].Trim(), pair[(eq + 1)..].Trim()))
                {
                    Fail(ref error, ErrorCodes.InvalidTag, $"tags: '{pair}' is not key=value (pairs separated by ';', each key once).");
                }
            }
        }

        return new InventoryRow
        {
            SourceId = cell("sourceId"),
            SourceName = cell("sourceName"),
            Name = cell("name"),
            Description = cell("description"),
            Template = cell("template"),
            Wave = cell("wave"),
            Tags = tags,
            RunOnce = runOnce,
            SyncInterval = cell("syncInterval"),
            MaxNumberOfImageToKeep = keep,
            ImageName = cell("imageName"),
            TargetType = cell("targetType"),
            ImageProvider = cell("imageProvider"),
            RegionId = cell("regionId"),
            ReadError = error,
        };
    }

    private static object? Fail(ref InventoryError? error, string code, string message)
    {
        error ??= new InventoryError(code, message);
        return null;
    }

    private static byte[] WriteCsv(List<InventoryExportRow> rows)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var csv = new CsvWriter(text, CultureInfo.InvariantCulture))
        {
            foreach (string column in ImportColumns.Concat(ExportColumns))
            {
                csv.WriteField(column);
            }

            csv.NextRecord();
            foreach (InventoryExportRow r in rows)
            {
                object?[] cells =
                [
                    r.SourceId, r.SourceName, r.Name, r.Description, r.Template, r.Wave,
                    string.Join(';', r.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}")),
                    r.RunOnce ? "true" : "false", r.SyncInterval, r.MaxNumberOfImageToKeep, r.ImageName, r.TargetType, r.ImageProvider, r.RegionId,
                    r.JobId, r.Status, r.CurrentRound, r.LastRoundEnd?.ToString("O", CultureInfo.InvariantCulture), r.LagSeconds, string.Join(';', r.Images), r.LastError,
                ];
                foreach (object? cell in cells)
                {
                    csv.WriteField(cell switch
                    {
                        null => "",
                        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                        _ => cell.ToString(),
                    });
                }

                csv.NextRecord();
            }
        }

        return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text.ToString());
    }
}
