using Smc.Alibaba.Emulator;

// alibaba-emulator [--urls http://127.0.0.1:PORT] [--account ID:SECRET]...
string url = "http://127.0.0.1:7080";
var state = new EmulatorState();
for (int i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--urls":
            url = args[i + 1];
            break;
        case "--account":
            string[] pair = args[i + 1].Split(':', 2);
            state.Accounts[pair[0]] = pair.Length > 1 ? pair[1] : "";
            break;
    }
}

await AlibabaEmulator.Build(state, url).RunAsync();
