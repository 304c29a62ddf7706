using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using FcTrain.Diagnostics;
using FcTrain.IO;

namespace FcTrain.Models;

/// <summary>
/// Downloads a model from the Hugging Face Hub into the standard cache layout, as huggingface_hub does:
/// files go to <c>blobs/{etag}</c> (resumable: a partial <c>.incomplete</c> file continues with an HTTP Range
/// request), are checked against the SHA-256 the Hub reports for LFS files, and are linked from
/// <c>snapshots/{commit}/</c>. <c>HF_TOKEN</c> authenticates (Gemma is gated); <c>HF_ENDPOINT</c> overrides the host.
/// A connection that cannot be made within <see cref="HubTimeouts.Connect"/>, or that delivers no byte (headers or
/// body) for <see cref="HubTimeouts.Stall"/>, ends the download with FCT0503; what arrived stays for the next run.
/// </summary>
public sealed class HubDownloader(HubCache cache, Action<string> log, string? endpoint = null, HubTimeouts? timeouts = null)
{
    private static readonly string[] Wanted =
        ["config.json", "generation_config.json", "model.safetensors", "model.safetensors.index.json",
         "tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"];

    private readonly HubTimeouts _timeouts = timeouts ?? HubTimeouts.Default;
    // No overall timeout: a 5 GB file may take hours. Progress is what counts: see HubTimeouts.
    private readonly HttpClient _http = new(new SocketsHttpHandler { ConnectTimeout = (timeouts ?? HubTimeouts.Default).Connect }) { Timeout = Timeout.InfiniteTimeSpan };
    private readonly string _endpoint = (endpoint ?? DefaultEndpoint).TrimEnd('/');

    public static string DefaultEndpoint =>
        Environment.GetEnvironmentVariable("HF_ENDPOINT") is { Length: > 0 } e ? e : "https://huggingface.co";

    public (string Folder, string Revision) Download(string repoId, string revision)
    {
        var (commit, files) = ListFiles(repoId, revision);
        string repo = cache.RepoFolder(repoId);
        string snapshot = Path.Combine(repo, "snapshots", commit);
        Directory.CreateDirectory(snapshot);
        foreach (string file in files.Where(f => Wanted.Contains(f) || (f.StartsWith("model-", StringComparison.Ordinal) && f.EndsWith(".safetensors", StringComparison.Ordinal))))
            Fetch(repoId, commit, file, repo, snapshot);
        Directory.CreateDirectory(Path.Combine(repo, "refs"));
        if (revision != commit) IO.AtomicFile.WriteAllText(Path.Combine(repo, "refs", revision), commit);
        return (snapshot, commit);
    }

    private (string Commit, List<string> Files) ListFiles(string repoId, string revision)
    {
        using var response = Send(HttpMethod.Get, $"{_endpoint}/api/models/{repoId}/revision/{revision}", repoId, null);
        using var doc = JsonDocument.Parse(response.Content.ReadAsStream());
        string commit = doc.RootElement.GetProperty("sha").GetString()!;
        var files = doc.RootElement.GetProperty("siblings").EnumerateArray().Select(s => s.GetProperty("rfilename").GetString()!).ToList();
        return (commit, files);
    }

    private void Fetch(string repoId, string commit, string file, string repo, string snapshot)
    {
        string link = Path.Combine(snapshot, file);
        if (File.Exists(link)) return;
        string url = $"{_endpoint}/{repoId}/resolve/{commit}/{file}";

        // HEAD-less: the first GET tells the etag (X-Linked-Etag: the SHA-256 of an LFS file).
        string blobs = Path.Combine(repo, "blobs");
        Directory.CreateDirectory(blobs);
        string partial = Path.Combine(blobs, Uri.EscapeDataString(commit + "-" + file) + ".incomplete");
        long have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        using var response = Send(HttpMethod.Get, url, repoId, have > 0 ? new RangeHeaderValue(have, null) : null);
        if (have > 0 && response.StatusCode != HttpStatusCode.PartialContent) have = 0;   // server ignored the range: start over
        string etag = (response.Headers.TryGetValues("X-Linked-Etag", out var linked) ? linked.First()
            : response.Headers.ETag?.Tag ?? commit + "-" + file).Trim('"').Replace("W/", "");
        long total = have + (response.Content.Headers.ContentLength ?? 0);

        try { Receive(response, partial, have, total, repoId, file, url); }
        catch (IOException e) when (AtomicFile.IsDiskFull(e))
        {
            throw FcTrainException.Error("FCT0501", $"no space left on the device while downloading {repoId}/{file}. What arrived is kept in {partial}: free some space and run again to continue it.", partial);
        }

        if (etag.Length == 64 && etag.All(Uri.IsHexDigit))
        {
            using var stream = File.OpenRead(partial);
            string actual = Convert.ToHexStringLower(SHA256.HashData(stream));
            if (actual != etag.ToLowerInvariant())
            {
                File.Delete(partial);
                throw FcTrainException.Error("FCT0215", $"downloaded {file} has SHA-256 {actual}, the Hub says {etag}. The partial file was removed; run again to download it afresh.", url);
            }
        }
        string blob = Path.Combine(blobs, etag);
        File.Move(partial, blob, overwrite: true);
        Directory.CreateDirectory(Path.GetDirectoryName(link)!);
        File.CreateSymbolicLink(link, Path.GetRelativePath(Path.GetDirectoryName(link)!, blob));
    }

    private HttpResponseMessage Send(HttpMethod method, string url, string repoId, RangeHeaderValue? range)
    {
        var request = new HttpRequestMessage(method, url);
        if (range is not null) request.Headers.Range = range;
        if (Environment.GetEnvironmentVariable("HF_TOKEN") is { Length: > 0 } token)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        HttpResponseMessage response;
        using var stall = new CancellationTokenSource(_timeouts.Stall);
        try { response = _http.Send(request, HttpCompletionOption.ResponseHeadersRead, stall.Token); }
        catch (OperationCanceledException) when (stall.IsCancellationRequested)
        {
            throw FcTrainException.Error("FCT0503", $"the Hugging Face Hub sent no answer for {_timeouts.Stall.TotalSeconds:F0} s while downloading '{repoId}'. Run again to retry (a partial download continues where it stopped), or set HF_ENDPOINT.", url);
        }
        catch (Exception e) when (e is TaskCanceledException or HttpRequestException { InnerException: TimeoutException })
        {
            throw FcTrainException.Error("FCT0503", $"no connection to the Hugging Face Hub within {_timeouts.Connect.TotalSeconds:F0} s while downloading '{repoId}'. Check the network (or HF_ENDPOINT) and run again.", url);
        }
        catch (HttpRequestException e)
        {
            throw FcTrainException.Error("FCT0214", $"cannot reach the Hugging Face Hub to download '{repoId}' ({e.Message}). Download the model with its files elsewhere and pass its folder, or set HF_ENDPOINT.", url);
        }
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            throw FcTrainException.Error("FCT0214", $"the Hub refused '{repoId}' ({(int)response.StatusCode}). Gated models such as Gemma need HF_TOKEN set to a token of an account that accepted the model's licence.", url);
        if (!response.IsSuccessStatusCode)
            throw FcTrainException.Error("FCT0214", $"the Hub answered {(int)response.StatusCode} {response.ReasonPhrase} for '{repoId}'. Check the model id and revision.", url);
        return response;
    }

    /// <summary>Appends the response body to the partial file, as it comes.</summary>
    private void Receive(HttpResponseMessage response, string partial, long have, long total, string repoId, string file, string url)
    {
        using var output = new FileStream(partial, have > 0 ? FileMode.Append : FileMode.Create, FileAccess.Write);
        using var input = response.Content.ReadAsStream();
        using var stall = new CancellationTokenSource();
        var buffer = new byte[1 << 20];
        long done = have, lastReport = 0;
        for (int n; (n = ReadWithin(input, buffer, stall, repoId, file, url, done, partial)) > 0;)
        {
            output.Write(buffer, 0, n);
            done += n;
            if (done - lastReport >= 64 << 20 || done == total)
            {
                log($"download {repoId}/{file}: {done / 1048576.0:F0} / {total / 1048576.0:F0} MiB");
                lastReport = done;
            }
        }
        output.Flush(flushToDisk: true);
    }

    /// <summary>One read of the body that fails with FCT0503 when no byte comes for the stall timeout; the partial file is kept.</summary>
    private int ReadWithin(Stream input, byte[] buffer, CancellationTokenSource stall, string repoId, string file, string url, long done, string partial)
    {
        stall.CancelAfter(_timeouts.Stall);
        try { return input.ReadAsync(buffer, stall.Token).AsTask().GetAwaiter().GetResult(); }
        catch (OperationCanceledException) when (stall.IsCancellationRequested)
        {
            throw FcTrainException.Error("FCT0503",
                $"the download of {repoId}/{file} stalled: no data for {_timeouts.Stall.TotalSeconds:F0} s after {done / 1048576.0:F1} MiB. " +
                $"The partial file is kept ({partial}); run again to continue from there.", url);
        }
    }
}

/// <summary>How long a Hub download waits for a connection, and for the next byte once connected (headers or body).</summary>
public sealed record HubTimeouts(TimeSpan Connect, TimeSpan Stall)
{
    public static HubTimeouts Default { get; } = new(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60));
}
