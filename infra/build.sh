#!/usr/bin/env bash
# Builds and lints the Bicep templates with the Bicep compiler from NuGet (no network beyond NuGet).
set -euo pipefail
cd "$(dirname "$0")"
dotnet restore tools/bicep-cli.csproj -v quiet >/dev/null
packages="$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')"
bicep="$packages/azure.bicep.commandline.linux-x64/0.49.2/tools/bicep"
chmod +x "$bicep"
mkdir -p ../.artifacts/infra
"$bicep" lint main.bicep
"$bicep" build main.bicep --outfile ../.artifacts/infra/main.json
echo "infra: main.bicep builds and lints clean"
