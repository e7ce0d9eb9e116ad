using System.Text.Json;
using MyIpcBench.Model;

namespace MyIpcBench.Workers;

/// <summary>Writes and reads a worker's report file (written whole: to a temporary name, then renamed).</summary>
internal static class WorkerReportFile
{
    public static void Write(string path, WorkerReport report)
    {
        string temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(report, WorkerJson.Default.WorkerReport));
        File.Move(temporary, path, overwrite: true);
    }

    public static WorkerReport? TryRead(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        return JsonSerializer.Deserialize(File.ReadAllText(path), WorkerJson.Default.WorkerReport);
    }
}
