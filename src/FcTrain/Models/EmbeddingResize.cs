using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FcTrain.Models;

/// <summary>
/// Growing a vocabulary table (the token embeddings, or an untied LM head) as transformers'
/// <c>resize_token_embeddings(new_num_tokens, mean_resizing=True)</c> does
/// (<c>_init_added_embeddings_weights_with_mean</c>). With W the old rows (V, C):
///
///     μ = Σᵢ Wᵢ / V                                   (C)      mean row
///     Σ = (W − μ)ᵀ (W − μ) / V                        (C, C)   covariance (biased, over the old rows)
///     new rows ~ N(μ, 1e-9 · Σ)                       when 1e-9·Σ is positive definite
///     new rows = μ                                    otherwise (e.g. fewer rows than dimensions)
///
/// all in float32, then cast to the table's dtype. "Positive definite" is torch's
/// <c>constraints.positive_definite</c>: symmetric within atol 1e-6 and a Cholesky factor exists.
/// Sampling is <c>MultivariateNormal.sample</c>: μ + z Lᵀ, z ~ N(0, I), L = cholesky(1e-9·Σ); z comes from the
/// caller's seeded generator (transformers uses torch's global one), so a training run is reproducible.
/// The old rows are kept exactly.
/// </summary>
public static class EmbeddingResize
{
    /// <summary>transformers' <c>epsilon</c>: new rows stay within ~3e-5 standard deviations of the mean.</summary>
    public const double CovarianceScale = 1e-9;

    /// <summary>
    /// Grows <paramref name="table"/> (V, C) in place to <paramref name="rows"/> rows. New rows are drawn as above,
    /// or zeros when <paramref name="generator"/> is null (for a caller that overwrites them next, e.g. with the
    /// rows saved in an adapter).
    /// </summary>
    public static void Grow(Parameter table, long rows, Generator? generator)
    {
        long added = rows - table.shape[0];
        if (added <= 0) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var extra = generator is null
            ? zeros(added, table.shape[1], table.dtype, table.device)                         // (added, C)
            : NewRows(table, added, generator);                                                // (added, C)
        var grown = cat([table, extra], 0);                                                    // (rows, C)
        table.set_(grown);   // in place (returns the table itself): the same Parameter, so a tied LM head follows it
    }

    /// <returns>(<paramref name="added"/>, C) rows in <paramref name="table"/>'s dtype and device.</returns>
    public static Tensor NewRows(Tensor table, long added, Generator generator)
    {
        using var scope = NewDisposeScope();
        var w = table.to(ScalarType.Float32);                                                  // (V, C)
        var mean = w.mean([0]);                                                                // (C)
        var centered = w - mean;                                                               // (V, C)
        using var rowCount = w.shape[0].ToScalar();
        using var covarianceScale = CovarianceScale.ToScalar();
        var covariance = centered.T.matmul(centered) / rowCount;                               // (C, C)
        var scaled = covariance * covarianceScale;                                             // (C, C)

        var (lower, info) = linalg.cholesky_ex(scaled);                                        // L: (C, C)
        bool symmetric = isclose(scaled, scaled.T, atol: 1e-6).all().item<bool>();
        bool positiveDefinite = symmetric && info.item<int>() == 0;

        Tensor rows;
        if (positiveDefinite)
        {
            // z on the CPU generator, then to the table's device: the same draw on every device.
            var z = randn([added, w.shape[1]], ScalarType.Float32, generator: generator).to(w.device);   // (added, C)
            rows = mean.add(z.matmul(lower.T), alpha: Scalars.One);                            // (added, C)
        }
        else
        {
            rows = mean.unsqueeze(0).expand(added, -1);                                         // (added, C)
        }
        return rows.to(table.dtype).contiguous().MoveToOuterDisposeScope();
    }
}
