"""From a latent design to a material: filters, projections, length scale and the media.

:class:`Parametrization` (:mod:`.chain`) is the whole chain; its steps are :mod:`.filters`
(conic and Gaussian density filters), :mod:`.projection` (tanh and subpixel-smoothed
projections), :mod:`.lengthscale` (the filter radius of a length scale, the geometric
constraints) and :mod:`.media` (density → wave speed, or a rigid solid in a fluid).
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=["chain", "filters", "lengthscale", "media", "projection"],
    submod_attrs={
        "chain": ["LinearSpeed", "Parametrization", "box_blur", "embed"],
        "filters": ["DensityFilter", "conic_kernel", "gaussian_kernel", "masked_filter"],
        "lengthscale": ["lengthscale_constraints", "radius_for_length_scale"],
        "media": ["AcousticMedium", "Medium", "Physics", "RigidSolid", "sound_speed"],
        "projection": ["gray_level", "smoothed_projection", "tanh_projection"],
    },
)
