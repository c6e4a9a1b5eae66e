"""Every table, gathered for Alembic and for tests that build a schema."""

from dinhdanh.age import models as age_models
from dinhdanh.age.credentials import models as age_credential_models
from dinhdanh.auth import models as auth_models
from dinhdanh.identity import models as identity_models
from dinhdanh.internet import models as internet_models
from dinhdanh.posture import models as posture_models
from dinhdanh.privacy import models as privacy_models
from dinhdanh.social import models as social_models
from dinhdanh.staff import models as staff_models
from dinhdanh.store import Base
from dinhdanh.store import models as store_models
from dinhdanh.telecom import models as telecom_models

metadata = Base.metadata

__all__ = [
    "age_credential_models",
    "age_models",
    "auth_models",
    "identity_models",
    "internet_models",
    "metadata",
    "posture_models",
    "privacy_models",
    "social_models",
    "staff_models",
    "store_models",
    "telecom_models",
]
