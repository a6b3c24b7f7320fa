// The agent runs on Linux sources first; its tests use the real Linux tools (sfdisk, stat) and file modes.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
