namespace Smc.Core.Orchestration;

// Inputs and results of the export activities (provider alibaba): ids, part numbers and counts only.

/// <summary>Export round <paramref name="Round"/>'s image of the job (or, with Round null, the newest round whose export is unfinished).</summary>
public sealed record ExportInput(string JobId, int? Round);

/// <summary>
/// The export of a round: its disks and how many parts each has. <paramref name="Round"/> null means nothing to export
/// (provider local, or no unfinished export); <paramref name="PollSeconds"/> the import's poll interval.
/// </summary>
public sealed record ExportPlan(int? Round, List<ExportDiskPlan> Disks, int PollSeconds, string? ErrorCode, string? Message);

/// <summary>A disk of the export and the parts OSS does not have yet (empty once it is uploaded).</summary>
public sealed record ExportDiskPlan(int Index, int PartCount, List<int> Missing);

/// <summary>Upload those of <paramref name="Parts"/> (part numbers, 1-based) of a disk that OSS doesn't have yet.</summary>
public sealed record UploadPartsInput(string JobId, int Round, int Disk, List<int> Parts);

public sealed record UploadPartsResult(int SentParts, long SentBytes, string? ErrorCode, string? Message);

public sealed record ExportDiskInput(string JobId, int Round, int Disk);

/// <summary>A step's outcome: null codes when it went well.</summary>
public sealed record ExportStepResult(string? ErrorCode, string? Message);

/// <summary>The import as polled: <c>Creating</c> (keep polling), <c>Available</c>, or an error.</summary>
public sealed record ImportCheck(string Status, int Progress, string? ErrorCode, string? Message);

/// <summary>End an export: on success delete the disk objects (unless kept) and apply retention to ECS images; on failure abort unfinished uploads.</summary>
public sealed record EndExportInput(string JobId, int Round, bool Succeeded);
