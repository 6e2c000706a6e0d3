"""Cinder volume driver of the local test cloud: Cinder's own fake driver, completed where it would touch disks.

FakeLoggingVolumeDriver inherits LVM's copy_image_to_volume (it would write the image to a /dev/mapper path)
and extend_volume (it would re-export an iSCSI target). Here both only check and log, and the pool says it
supports extending attached volumes.
"""
from oslo_log import log as logging

from cinder.tests.fake_driver import FakeLoggingVolumeDriver

LOG = logging.getLogger(__name__)


class HubstackFakeVolumeDriver(FakeLoggingVolumeDriver):
    def copy_image_to_volume(self, context, volume, image_service, image_id):
        image_service.show(context, image_id)  # the image must exist and be visible to the caller
        LOG.info("fake copy of image %s to volume %s", image_id, volume.id)

    def extend_volume(self, volume, new_size):
        LOG.info("fake extend of volume %s to %s GiB", volume.id, new_size)

    def _update_volume_stats(self):
        super()._update_volume_stats()
        for pool in self._stats['pools']:
            pool['online_extend_support'] = True
            pool['reserved_percentage'] = 0
